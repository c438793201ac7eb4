import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import { mlp } from './mlp.js';
import {
  assertOptionError,
  assertSeedDeterminism,
  cyclicLabels,
  fitOneStep,
} from '../testing/models.js';

before(() => useBackend('cpu'));

test('mlp defaults: 784 → 1024 → 1024 → 10 softmax', () => {
  const model = mlp();
  assert.deepEqual(model.inputs[0]!.shape, [null, 784]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  // 784·1024 + 1024 + 1024·1024 + 1024 + 1024·10 + 10
  assert.equal(model.countParams(), 1_863_690);
  model.dispose();
});

test('mlp flattens image inputs and supports no hidden layer', () => {
  const image = mlp({ inputShape: [28, 28, 1], hidden: [32], classes: 5 });
  assert.deepEqual(image.inputs[0]!.shape, [null, 28, 28, 1]);
  assert.equal(image.countParams(), 784 * 32 + 32 + 32 * 5 + 5);
  const logistic = mlp({ hidden: [] });
  assert.equal(logistic.countParams(), 7850);
  image.dispose();
  logistic.dispose();
});

test('mlp seeded builds are identical, different seeds differ', () => {
  assertSeedDeterminism((seed) => mlp({ inputShape: [6], hidden: [8, 8], classes: 3, seed }));
});

test('mlp trains one step with a finite loss', async () => {
  const model = mlp({
    inputShape: [4, 4, 1],
    hidden: [8],
    classes: 3,
    activation: 'tanh',
    seed: 1,
  });
  const x = tf.randomUniform([6, 4, 4, 1], 0, 1, 'float32', 2);
  const loss = await fitOneStep(model, x, cyclicLabels(6, 3));
  assert.ok(Number.isFinite(loss));
  model.dispose();
});

test('mlp rejects bad options with the option, the value and the accepted range', () => {
  assertOptionError(() => mlp({ hidden: [16, 0] }), /'hidden\[1\]'/, /is 0/, /integer ≥ 1/);
  assertOptionError(() => mlp({ activation: 'rleu' as never }), /'activation'/, /'rleu'/, /relu/);
  assertOptionError(() => mlp({ inputShape: [28, -1] }), /'inputShape'/, /\[28, -1\]/);
  assertOptionError(() => mlp({ classes: 1 }), /'classes' is 1/, /≥ 2/);
});
