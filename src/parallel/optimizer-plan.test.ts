import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { asam, sam } from '../core/sam.js';
import { adamw } from '../optimizers/adamw.js';
import { gsam } from '../variants/gsam.js';
import { looksam } from '../variants/looksam.js';
import { msam } from '../variants/msam.js';
import { samOn } from '../variants/sam-on.js';
import { esam } from '../variants/esam.js';
import { planOptimizer } from './optimizer-plan.js';
import { useBackend } from '../testing/backends.js';

await useBackend('cpu');

const NAMES = [
  'dense_Dense1/kernel',
  'dense_Dense1/bias',
  'batch_normalization_BatchNormalization2/gamma',
  'batch_normalization_BatchNormalization2/beta_1',
];

test('plain tfjs optimizers and AdamW only apply the mean gradient', () => {
  for (const optimizer of [
    tf.train.sgd(0.1),
    tf.train.momentum(0.1, 0.9),
    tf.train.adam(),
    adamw(),
  ]) {
    const plan = planOptimizer(optimizer, NAMES);
    assert.equal(plan.kind, 'plain', optimizer.getClassName());
    assert.equal(plan.optimizer, optimizer);
  }
});

test('SAM perturbs every variable; ASAM scales kernels and normalization scales only', () => {
  const plain = planOptimizer(sam(tf.train.sgd(0.1), { rho: 0.1 }), NAMES);
  assert.equal(plain.kind, 'sam');
  if (plain.kind !== 'sam') return;
  assert.deepEqual(plain.perturbation.perturbedMask, [true, true, true, true]);
  assert.equal(plain.perturbation.adaptive, false);

  const adaptive = planOptimizer(asam(tf.train.sgd(0.1), { eta: 0.02 }), NAMES);
  if (adaptive.kind !== 'sam') throw new Error('ASAM should plan as sam');
  assert.equal(adaptive.perturbation.adaptive, true);
  assert.equal(adaptive.perturbation.eta, 0.02);
  assert.deepEqual(adaptive.perturbation.adaptiveMask, [true, false, true, false]);

  const all = planOptimizer(asam(tf.train.sgd(0.1), { adaptiveScope: 'all' }), NAMES);
  if (all.kind !== 'sam') throw new Error('ASAM should plan as sam');
  assert.deepEqual(all.perturbation.adaptiveMask, [true, true, true, true]);
});

test('SAM-ON perturbs the normalization variables only, and says so when a model has none', () => {
  const plan = planOptimizer(samOn(tf.train.sgd(0.1)), NAMES);
  if (plan.kind !== 'sam') throw new Error('SAM-ON should plan as sam');
  assert.deepEqual(plan.perturbation.perturbedMask, [false, false, true, true]);
  assert.throws(
    () => planOptimizer(samOn(tf.train.sgd(0.1)), NAMES.slice(0, 2)),
    /none of the model's 2 trainable variables matches SAMON's variablePattern.*BatchNormalization/s,
  );
});

test('variants that change the update, MSAM and multi-step ascent are refused with what works', () => {
  for (const [optimizer, name] of [
    [gsam(tf.train.sgd(0.1)), 'GSAM'],
    [looksam(tf.train.sgd(0.1)), 'LookSAM'],
    [esam(tf.train.sgd(0.1)), 'ESAM'],
  ] as const) {
    assert.throws(
      () => planOptimizer(optimizer, NAMES),
      (error: Error) =>
        error.message.startsWith(`createDataParallel: ${name} is not supported`) &&
        /works with plain tfjs optimizers .* SAM, ASAM, SAM-ON and SAMPa/.test(error.message) &&
        /single-threaded/.test(error.message),
      name,
    );
  }
  assert.throws(
    () => planOptimizer(msam(tf.train.momentum(0.1, 0.9)), NAMES),
    /MSAM runs its own step in minimize\(\).*SAM-ON/,
  );
  assert.throws(
    () => planOptimizer(sam(tf.train.sgd(0.1), { ascentSteps: 2 }), NAMES),
    /ascentSteps 2.*Use ascentSteps: 1/,
  );
  assert.throws(() => planOptimizer('sgd', NAMES), /must be a tfjs optimizer/);
});
