import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import { smallCnn } from './small-cnn.js';
import {
  assertOptionError,
  assertSeedDeterminism,
  cyclicLabels,
  fitOneStep,
} from '../testing/models.js';

before(() => useBackend('cpu'));

test('smallCnn on 28×28×1: valid padding gives 5·5·64 features and 225,034 parameters', () => {
  const model = smallCnn();
  assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  const flatten = model.layers.find((layer) => layer.getClassName() === 'Flatten')!;
  assert.deepEqual(flatten.outputShape, [null, 1600]);
  const conv1 = 3 * 3 * 1 * 32 + 32;
  const conv2 = 3 * 3 * 32 * 64 + 64;
  const dense1 = 1600 * 128 + 128;
  const dense2 = 128 * 10 + 10;
  assert.equal(conv1 + conv2 + dense1 + dense2, 225_034);
  assert.equal(model.countParams(), 225_034);
  model.dispose();
});

test('smallCnn on 32×32×3 with 100 classes', () => {
  const model = smallCnn({ inputShape: [32, 32, 3], classes: 100 });
  // 32 → 30 → 15 → 13 → 6: 6·6·64 = 2,304 features
  const expected =
    3 * 3 * 3 * 32 + 32 + (3 * 3 * 32 * 64 + 64) + (2304 * 128 + 128) + (128 * 100 + 100);
  assert.equal(model.countParams(), expected);
  assert.deepEqual(model.outputs[0]!.shape, [null, 100]);
  model.dispose();
});

test('smallCnn seeded builds are identical, different seeds differ', () => {
  assertSeedDeterminism((seed) => smallCnn({ inputShape: [10, 10, 1], classes: 3, seed }));
});

test('smallCnn trains one step with a finite loss', async () => {
  const model = smallCnn({ inputShape: [12, 12, 1], classes: 3, seed: 1 });
  const x = tf.randomUniform([4, 12, 12, 1], 0, 1, 'float32', 2);
  const loss = await fitOneStep(model, x, cyclicLabels(4, 3));
  assert.ok(Number.isFinite(loss));
  model.dispose();
});

test('smallCnn rejects inputs too small for valid padding and wrong ranks', () => {
  assertOptionError(() => smallCnn({ inputShape: [8, 8, 1] }), /\[8, 8, 1\]/, /at least 10/);
  assertOptionError(() => smallCnn({ inputShape: [784] }), /'inputShape'/, /rank 3/);
  assertOptionError(() => smallCnn({ classes: 2.5 }), /'classes' is 2.5/);
});
