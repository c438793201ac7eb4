import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import { wideResNet } from './wide-resnet.js';
import {
  assertOptionError,
  assertSeedDeterminism,
  cyclicLabels,
  fitOneStep,
} from '../testing/models.js';

before(() => useBackend('cpu'));

const conv = (kernel: number, inputs: number, filters: number): number =>
  kernel * kernel * inputs * filters;
const batchNorm = (channels: number): number => 4 * channels;

test('WRN-16-4 has 2,752,506 parameters (2.7M in Zagoruyko & Komodakis, Table 1)', () => {
  const model = wideResNet();
  assert.deepEqual(model.outputs[0]!.shape, [null, 10]);
  // Each group: a first block that changes width (with a 1×1 shortcut), then identity blocks.
  const changingBlock = (inputs: number, filters: number): number =>
    batchNorm(inputs) +
    conv(3, inputs, filters) +
    batchNorm(filters) +
    conv(3, filters, filters) +
    conv(1, inputs, filters);
  const identityBlock = (filters: number): number =>
    2 * (batchNorm(filters) + conv(3, filters, filters));
  const expected =
    conv(3, 3, 16) +
    changingBlock(16, 64) +
    identityBlock(64) +
    changingBlock(64, 128) +
    identityBlock(128) +
    changingBlock(128, 256) +
    identityBlock(256) +
    batchNorm(256) +
    (256 * 10 + 10);
  assert.equal(expected, 2_752_506);
  assert.equal(model.countParams(), 2_752_506);
  model.dispose();
});

test('WRN-10-1 (one block per group) and dropout layers', () => {
  const model = wideResNet({
    depth: 10,
    widenFactor: 1,
    dropout: 0.3,
    inputShape: [8, 8, 3],
    classes: 5,
  });
  assert.equal(model.layers.filter((layer) => layer.getClassName() === 'Dropout').length, 3);
  const expected =
    conv(3, 3, 16) +
    (batchNorm(16) + conv(3, 16, 16) + batchNorm(16) + conv(3, 16, 16)) +
    (batchNorm(16) + conv(3, 16, 32) + batchNorm(32) + conv(3, 32, 32) + conv(1, 16, 32)) +
    (batchNorm(32) + conv(3, 32, 64) + batchNorm(64) + conv(3, 64, 64) + conv(1, 32, 64)) +
    batchNorm(64) +
    (64 * 5 + 5);
  assert.equal(model.countParams(), expected);
  model.dispose();
});

test('wideResNet seeded builds are identical, different seeds differ', () => {
  assertSeedDeterminism((seed) =>
    wideResNet({ depth: 10, widenFactor: 1, inputShape: [8, 8, 3], seed }),
  );
});

test('wideResNet trains one step with dropout and a finite loss', async () => {
  const model = wideResNet({
    depth: 10,
    widenFactor: 1,
    dropout: 0.2,
    inputShape: [8, 8, 3],
    classes: 3,
    seed: 1,
  });
  const x = tf.randomUniform([4, 8, 8, 3], 0, 1, 'float32', 2);
  const loss = await fitOneStep(model, x, cyclicLabels(4, 3));
  assert.ok(Number.isFinite(loss));
  model.dispose();
});

test('wideResNet rejects depths with (depth − 4) % 6 ≠ 0, naming the nearest valid depths', () => {
  assertOptionError(
    () => wideResNet({ depth: 20 }),
    /'depth' is 20/,
    /\(depth − 4\) % 6 === 0/,
    /use 16 or 22/,
  );
  assertOptionError(() => wideResNet({ depth: 4 }), /'depth' is 4/, /≥ 10/);
  assertOptionError(() => wideResNet({ widenFactor: 0 }), /'widenFactor' is 0/);
  assertOptionError(() => wideResNet({ dropout: 1 }), /'dropout' is 1/, /\[0, 1\)/);
});
