/**
 * The CLI's checkpoints are the files `model.save('file://…')` writes with tfjs-sam/node: a model
 * the CLI trained loads in a program, and a program's saved model goes into the CLI's diagnostics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { SAM, sam } from 'tfjs-sam';
import 'tfjs-sam/node';
import { runCli } from './testing/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-on-disk-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("a CLI run's checkpoint loads with tf.loadLayersModel('file://…'), SAM and all", async () => {
  await runCli([
    ...['train', '--optimizer', 'sam(rho=0.1)', '--model', 'mlp', '--train-subset', '100'],
    ...['--epochs', '1', '--batch-size', '50', '--no-progress', '--out', join(dir, 'cli')],
  ]);
  const url = `file://${join(dir, 'cli', 'runs', 'sam_rho=0.1_-seed1', 'checkpoint', 'model.json')}`;
  const model = await tfl.loadLayersModel(url);
  assert.ok(model.optimizer instanceof SAM, 'the optimizer is SAM');
  assert.equal((model.optimizer as SAM).iterations, 2, 'its state came along (2 steps)');
  const out = model.predict(tf.zeros([1, 28, 28, 1])) as tf.Tensor;
  assert.deepEqual(out.shape, [1, 10]);
  tf.dispose(out);
  (model.optimizer as SAM).dispose();
  model.dispose();
});

test("a program's model.save('file://…') goes into tfjs-sam sharpness", async () => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      tfl.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: sam(tf.train.sgd(0.1)), loss: 'categoricalCrossentropy' });
  const saved = join(dir, 'mine');
  await model.save(`file://${saved}`, { includeOptimizer: true });
  (model.optimizer as SAM).dispose();
  model.dispose();
  const printed = await runCli([
    ...['sharpness', saved, '--samples', '32', '--iterations', '3', '--trace-samples', '2'],
    '--json',
  ]);
  const report = JSON.parse(printed) as { lambdaMax: number; model: string };
  assert.equal(report.model, saved);
  assert.ok(Number.isFinite(report.lambdaMax));
});
