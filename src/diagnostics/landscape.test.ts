import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import {
  filterNormalizedDirection,
  landscapeSlice1D,
  landscapeSlice2D,
  linearInterpolation,
} from './landscape.js';
import { modelLandscapes } from './report.js';
import { flatValues, tinyModel } from '../testing/diagnostics.js';

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

    test('modelLandscapes computes the slices and the interpolation, writes nothing, restores the weights', () => {
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
        const both = modelLandscapes([modelA, modelB], x, y, { points1d: 5, points2d: 4, seed: 2 });
        assert.equal(tf.memory().numTensors, start);
        assert.deepEqual(flatValues(modelA.weights.map((v) => v.read())), before);
        assert.deepEqual(Object.keys(both).sort(), ['interpolation', 'slice1d', 'slice2d']);
        assert.equal(both.slice1d.points.length, 5);
        assert.equal(both.slice2d?.points.length, 16);
        assert.equal(both.interpolation?.points.length, 5);
        assert.ok(both.slice1d.points.every((p) => Number.isFinite(p.loss)));
        const one = modelLandscapes(modelA, x, y, { points1d: 5, seed: 2, skip2d: true });
        assert.deepEqual(Object.keys(one), ['slice1d']);
        assert.deepEqual(one.slice1d, both.slice1d);
        assert.throws(
          () => modelLandscapes(modelA, x, y, { title: 'plots' } as never),
          /modelLandscapes: unknown option 'title'/,
        );
        assert.throws(
          () => modelLandscapes([modelA, modelB, modelA], x, y),
          /modelLandscapes: 'models' holds 3 models; expected 1 or 2/,
        );
      } finally {
        tf.dispose([x, y]);
        modelA.dispose();
        modelB.dispose();
      }
    });
  });
}
