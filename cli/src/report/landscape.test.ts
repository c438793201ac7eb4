import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { modelLandscapes } from 'tfjs-sam/diagnostics';
import { TEST_BACKENDS, useBackend } from '../../../src/testing/backends.js';
import { flatValues, tinyModel } from '../../../src/testing/diagnostics.js';
import { landscapeReport } from './landscape.js';

for (const backend of TEST_BACKENDS) {
  describe(`report/landscape [${backend}]`, () => {
    before(async () => useBackend(backend));

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

    test('landscapeReport writes what modelLandscapes computes; its errors name landscapeReport', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-landscape-'));
      const model = tinyModel(3);
      const x = tf.tensor2d([
        [0.1, 0.2, 0.3],
        [-1, 0.5, 0.2],
      ]);
      const y = tf.tensor2d([
        [1, 0, 0],
        [0, 0, 1],
      ]);
      try {
        const options = { points1d: 4, seed: 1, skip2d: true };
        const report = await landscapeReport(model, x, y, { ...options, title: 'one' }, dir);
        const computed = modelLandscapes(model, x, y, options);
        assert.deepEqual(JSON.parse(readFileSync(report.files.json, 'utf8')), computed);
        assert.deepEqual(report.slice1d, computed.slice1d);
        assert.match(readFileSync(report.files.html, 'utf8'), /<title>one<\/title>/);
        await assert.rejects(
          landscapeReport([model, model, model], x, y, {}, dir),
          /landscapeReport: 'models' holds 3 models; expected 1 or 2/,
        );
        await assert.rejects(
          landscapeReport(model, x, y, {}, ''),
          /landscapeReport: 'outDir' must be a non-empty directory path/,
        );
        await assert.rejects(
          landscapeReport(model, x, y, { colour: 'red' } as never, dir),
          /landscapeReport: unknown option 'colour'/,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
        tf.dispose([x, y]);
        model.dispose();
      }
    });
  });
}
