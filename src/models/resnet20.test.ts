import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../testing/backends.js';
import { resnet20 } from './resnet20.js';
import {
  assertOptionError,
  assertRoundTrip,
  assertSeedDeterminism,
  cyclicLabels,
  fitOneStep,
} from '../testing/models.js';

before(() => useBackend('cpu'));

/** A bias-free k×k conv from `inputs` to `filters` channels followed by BatchNorm (4 params/channel). */
function convBnParams(kernel: number, inputs: number, filters: number): number {
  return kernel * kernel * inputs * filters + 4 * filters;
}

test('resnet20 on CIFAR shapes: 274,042 parameters (≈0.27M), 20 weighted layers', () => {
  const model = resnet20();
  assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  const stem = convBnParams(3, 3, 16);
  const stage1 = 3 * 2 * convBnParams(3, 16, 16);
  const stage2 =
    convBnParams(3, 16, 32) +
    convBnParams(3, 32, 32) +
    convBnParams(1, 16, 32) +
    2 * 2 * convBnParams(3, 32, 32);
  const stage3 =
    convBnParams(3, 32, 64) +
    convBnParams(3, 64, 64) +
    convBnParams(1, 32, 64) +
    2 * 2 * convBnParams(3, 64, 64);
  const head = 64 * 10 + 10;
  assert.equal(stem + stage1 + stage2 + stage3 + head, 274_042);
  assert.equal(model.countParams(), 274_042);
  const convs = model.layers.filter((layer) => layer.getClassName() === 'Conv2D');
  const kernels3x3 = convs.filter(
    (layer) => (layer.getConfig()['kernelSize'] as number[])[0] === 3,
  );
  assert.equal(kernels3x3.length + 1, 20, '19 3×3 convs + the dense layer');
  assert.equal(convs.length - kernels3x3.length, 2, 'two 1×1 projection shortcuts');
  model.dispose();
});

test('resnet20 downsamples 32 → 16 → 8', () => {
  const model = resnet20();
  const pooling = model.layers.find((layer) => layer.getClassName() === 'GlobalAveragePooling2D')!;
  assert.deepEqual((pooling.input as tfl.SymbolicTensor).shape, [null, 8, 8, 64]);
  model.dispose();
});

test('resnet20 seeded builds are identical, different seeds differ', () => {
  assertSeedDeterminism((seed) => resnet20({ inputShape: [8, 8, 3], classes: 3, seed }));
});

test('resnet20 trains one step and round-trips through save/load with identical predictions', async () => {
  const model = resnet20({ inputShape: [8, 8, 3], classes: 4, seed: 1 });
  const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 2);
  const loss = await fitOneStep(model, x, cyclicLabels(4, 4));
  assert.ok(Number.isFinite(loss));
  await assertRoundTrip(model, x);
  model.dispose();
});

test('resnet20 rejects bad options', () => {
  assertOptionError(
    () => resnet20({ inputShape: [32, 32] }),
    /'inputShape'/,
    /\[32, 32\]/,
    /rank 3/,
  );
  assertOptionError(() => resnet20({ classes: 0 }), /'classes' is 0/);
  assertOptionError(() => resnet20({ seed: Number.NaN }), /'seed' is NaN/);
});
