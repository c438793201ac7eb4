import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import {
  filterNormalizedDirection,
  landscapeSlice1D,
  landscapeSlice2D,
  linearInterpolation,
} from './landscape.js';
import { landscapeReport } from './report.js';
import { flatValues } from '../testing/diagnostics.js';

function tinyModel(seed: number): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.dense({
      units: 4,
      inputShape: [3],
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotNormal({ seed }),
    }),
  );
  model.add(
    tfl.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotNormal({ seed: seed + 1 }),
    }),
  );
  return model;
}

for (const backend of TEST_BACKENDS) {
  describe(`diagnostics/landscape [${backend}]`, () => {
    before(async () => useBackend(backend));

    test('filter-normalized direction: per output filter norm equals the weight filter norm; rank ≤ 1 zeroed', () => {
      const kernel = tf.tensor4d(
        Array.from({ length: 2 * 2 * 3 * 5 }, (_, i) => Math.sin(i) * (1 + (i % 5))),
        [2, 2, 3, 5],
      );
      const bias = tf.tensor1d([1, 2, 3, 4, 5]);
      const [direction, biasDirection] = filterNormalizedDirection([kernel, bias], 4) as [
        tf.Tensor,
        tf.Tensor,
      ];
      const norms = (t: tf.Tensor) =>
        Array.from(tf.tidy(() => tf.sqrt(tf.sum(tf.square(t), [0, 1, 2]))).dataSync());
      const expected = norms(kernel);
      norms(direction).forEach((n, i) =>
        assert.ok(Math.abs(n - expected[i]!) / expected[i]! < 1e-5),
      );
      assert.deepEqual(Array.from(biasDirection.dataSync()), [0, 0, 0, 0, 0]);
      assert.deepEqual(flatValues(filterNormalizedDirection([kernel], 4)), flatValues([direction]));
      tf.dispose([kernel, bias, direction, biasDirection]);
    });

    test('2D slice of ½‖w‖² matches the closed form on the grid; weights restored; tensors flat', () => {
      const w = tf.variable(
        tf.tensor2d([
          [1, -2],
          [0.5, 3],
        ]),
      );
      const evaluate = () => ({ loss: tf.mul(0.5, tf.sum(tf.square(w))) as tf.Scalar });
      const start = tf.memory().numTensors;
      const slice = landscapeSlice2D(evaluate, [w], { points: 5, seed: 6 });
      assert.equal(tf.memory().numTensors, start);
      const [d1] = filterNormalizedDirection([w], 6);
      const [d2] = filterNormalizedDirection([w], 7);
      const base = Array.from(w.dataSync());
      const a = Array.from(d1!.dataSync());
      const b = Array.from(d2!.dataSync());
      assert.equal(slice.points.length, 25);
      for (const p of slice.points) {
        const expected =
          0.5 * base.reduce((s, v, i) => s + (v + p.alpha * a[i]! + p.beta * b[i]!) ** 2, 0);
        assert.ok(
          Math.abs(p.loss - expected) <= 1e-5 * Math.max(1, expected),
          `${p.alpha},${p.beta}: ${p.loss} vs ${expected}`,
        );
      }
      assert.deepEqual(Array.from(w.dataSync()), base);
      const one = landscapeSlice1D(evaluate, [w], { points: 3, seed: 6, range: [-1, 1] });
      assert.deepEqual(
        one.points.map((p) => p.alpha),
        [-1, 0, 1],
      );
      assert.ok(Math.abs(one.points[1]!.loss - 7.125) < 1e-6);
      tf.dispose([d1!, d2!, w]);
    });

    test('linear interpolation hits L(A) at α = 0 and L(B) at α = 1', () => {
      const w = tf.variable(tf.tensor1d([1, 1]));
      const evaluate = () => ({
        loss: tf.sum(tf.square(tf.sub(w, tf.tensor1d([3, -1])))) as tf.Scalar,
      });
      const a = [tf.tensor1d([0, 0])];
      const b = [tf.tensor1d([3, -1])];
      const result = linearInterpolation(evaluate, [w], a, b, { range: [0, 1], points: 3 });
      assert.deepEqual(
        result.points.map((p) => p.loss),
        [10, 2.5, 0],
      );
      assert.deepEqual(Array.from(w.dataSync()), [1, 1]);
      assert.throws(
        () => linearInterpolation(evaluate, [w], a, b, { range: [1, 0] }),
        /option 'range' is \[1,0\]; expected \[low, high\]/,
      );
      assert.throws(
        () => landscapeSlice2D(evaluate, [w], { points: 1 }),
        /option 'rangePoints' is 1; expected an integer >= 2/,
      );
      tf.dispose([w, ...a, ...b]);
    });

    test('landscapeReport writes JSON, SVG/PNG plots and a self-contained HTML page', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-landscape-'));
      const modelA = tinyModel(1);
      const modelB = tinyModel(5);
      const x = tf.tensor2d([
        [0.1, 0.2, 0.3],
        [-1, 0.5, 0.2],
        [0.3, -0.2, 1],
      ]);
      const y = tf.tensor2d([
        [1, 0, 0],
        [0, 1, 0],
        [0, 0, 1],
      ]);
      const before = flatValues(modelA.weights.map((v) => v.read()));
      const start = tf.memory().numTensors;
      try {
        const report = await landscapeReport(
          [modelA, modelB],
          x,
          y,
          { points1d: 5, points2d: 4, seed: 2 },
          dir,
        );
        assert.equal(tf.memory().numTensors, start);
        assert.deepEqual(flatValues(modelA.weights.map((v) => v.read())), before);
        const json = JSON.parse(readFileSync(report.files.json, 'utf8'));
        assert.equal(json.slice2d.points.length, 16);
        assert.equal(json.interpolation.points.length, 5);
        for (const name of ['interpolation', 'slice-1d', 'slice-2d-contour', 'slice-2d-heatmap']) {
          assert.ok(existsSync(join(dir, `${name}.png`)), name);
          assert.match(readFileSync(join(dir, `${name}.svg`), 'utf8'), /^<svg/);
        }
        const html = readFileSync(report.files.html, 'utf8');
        assert.equal(html.match(/<svg/g)?.length, 4);
        assert.doesNotMatch(html, /<script|src="http/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        tf.dispose([x, y]);
        modelA.dispose();
        modelB.dispose();
      }
    });
  });
}
