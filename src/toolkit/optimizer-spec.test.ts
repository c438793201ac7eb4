import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import type { SAM } from '../core/sam.js';
import type { AdamW } from '../optimizers/adamw.js';
import { WeightDecay } from '../optimizers/weight-decay.js';
import { GSAM } from '../variants/gsam.js';
import type { LookSAM } from '../variants/looksam.js';
import { MSAM } from '../variants/msam.js';
import type { ESAM } from '../variants/esam.js';
import type { XSAM } from '../variants/xsam.js';
import {
  buildOptimizer,
  parseOptimizerList,
  parseOptimizerSpec,
  passesPerStep,
} from './optimizer-spec.js';

const common = { learningRate: 0.1, momentum: 0.9, weightDecay: 0, base: 'momentum' };

test('optimizer specs parse names and options', () => {
  assert.deepEqual(parseOptimizerSpec('gsam(alpha=0.3, adaptive=true,base=adamw)'), {
    label: 'gsam(alpha=0.3, adaptive=true,base=adamw)',
    name: 'gsam',
    options: { alpha: 0.3, adaptive: true, base: 'adamw' },
  });
  assert.deepEqual(
    parseOptimizerList('sgd,sam(rho=0.1,adaptive=true),looksam').map((s) => s.name),
    ['sgd', 'sam', 'looksam'],
  );
  assert.throws(
    () => parseOptimizerSpec('sma'),
    /unknown optimizer 'sma' in 'sma'. Known: sgd, momentum/,
  );
  assert.throws(
    () => parseOptimizerSpec('sam(rho)'),
    /option 'rho' in 'sam\(rho\)' is not of the form key=value/,
  );
  assert.throws(() => parseOptimizerList(' , '), /no optimizer in/);
  assert.equal(passesPerStep(parseOptimizerSpec('sam')), 2);
  assert.equal(passesPerStep(parseOptimizerSpec('sam(ascentSteps=3)')), 4);
  assert.equal(passesPerStep(parseOptimizerSpec('looksam(k=4)')), 1.25);
  assert.equal(passesPerStep(parseOptimizerSpec('adamw')), 1);
});

test('optimizer specs build the right classes with shared and per-spec settings', async () => {
  await useBackend('cpu');
  const g = buildOptimizer(parseOptimizerSpec('gsam(alpha=0.2,rho=0.07)'), {
    ...common,
    rho: 0.05,
  }) as GSAM;
  assert.ok(Object.prototype.isPrototypeOf.call(GSAM.prototype, g));
  assert.equal(g.alpha, 0.2);
  assert.equal(g.rho, 0.07);
  assert.equal(g.base.getClassName(), 'Momentum');
  const withDecay = buildOptimizer(parseOptimizerSpec('sam(base=sgd)'), {
    ...common,
    weightDecay: 5e-4,
  }) as SAM;
  assert.ok(Object.prototype.isPrototypeOf.call(WeightDecay.prototype, withDecay.base));
  const adamW = buildOptimizer(parseOptimizerSpec('looksam(base=adamw,k=3)'), {
    ...common,
    weightDecay: 0.05,
  }) as LookSAM;
  assert.equal((adamW.base as AdamW).weightDecay, 0.05);
  assert.equal(adamW.k, 3);
  assert.throws(
    () => buildOptimizer(parseOptimizerSpec('gsam(alpah=1)'), common),
    /gsam\(alpah=1\): GSAM: unknown option 'alpah'/,
  );
  assert.throws(
    () => buildOptimizer(parseOptimizerSpec('sam(base=lion)'), common),
    /base 'lion' is not one of sgd, momentum, adam, adamw, rmsprop/,
  );
  [g, withDecay, adamW].forEach((o) => o.dispose());
});

test('WeightDecay adds λ·w to the gradient, like PyTorch SGD(weight_decay)', async () => {
  await useBackend('cpu');
  const w = tf.variable(tf.tensor1d([2, -1]), true, 'weight_decay_test_w');
  const optimizer = new WeightDecay(tf.train.sgd(0.1), 0.5);
  optimizer.minimize(() => tf.sum(w) as tf.Scalar, false, [w]);
  // g = (1, 1); g + 0.5·w = (2, 0.5); w − 0.1·(2, 0.5)
  assert.deepEqual(
    Array.from(w.dataSync()).map((v) => Math.round(v * 1e6) / 1e6),
    [1.8, -1.05],
  );
  const copy = WeightDecay.fromConfig(
    WeightDecay,
    JSON.parse(JSON.stringify(optimizer.getConfig())),
  ) as WeightDecay;
  assert.equal(copy.weightDecay, 0.5);
  assert.equal(copy.base.getClassName(), 'SGD');
  assert.throws(
    () => new WeightDecay(tf.train.sgd(0.1), -1),
    /WeightDecay: option 'weightDecay' is -1/,
  );
  optimizer.dispose();
  w.dispose();
});

test('msam, xsam and esam specs: MSAM takes the weight decay itself, ESAM keeps its data selection', async () => {
  await useBackend('cpu');
  const m = buildOptimizer(parseOptimizerSpec('msam(rho=0.2)'), {
    ...common,
    weightDecay: 5e-4,
  }) as MSAM;
  assert.ok(Object.prototype.isPrototypeOf.call(MSAM.prototype, m));
  assert.equal(m.rho, 0.2);
  assert.equal(m.weightDecay, 5e-4);
  assert.equal(m.base.getClassName(), 'Momentum', 'no second, coupled decay in the base');
  const e = buildOptimizer(parseOptimizerSpec('esam(beta=0.5)'), common) as ESAM;
  assert.equal(e.gamma, 0.5, "ESAM's own default: the trainer runs its data selection");
  assert.equal(e.beta, 0.5);
  assert.equal(passesPerStep(parseOptimizerSpec('esam')), 1 + 0.5 + 1 / 3);
  assert.equal(passesPerStep(parseOptimizerSpec('esam(gamma=1)')), 2);
  assert.equal(passesPerStep(parseOptimizerSpec('msam')), 1);
  assert.equal(passesPerStep(parseOptimizerSpec('xsam(dynamic=false,ascentSteps=2)')), 3);
  for (const o of [m, e]) o.dispose();
});

test('xsam searches α once per epoch when the run knows its epoch length', async () => {
  await useBackend('cpu');
  const perEpoch = buildOptimizer(parseOptimizerSpec('xsam'), {
    ...common,
    stepsPerEpoch: 79,
  }) as XSAM;
  assert.equal(perEpoch.alphaEvery, 79);
  const explicit = buildOptimizer(parseOptimizerSpec('xsam(alphaEvery=5)'), {
    ...common,
    stepsPerEpoch: 79,
  }) as XSAM;
  assert.equal(explicit.alphaEvery, 5, "the spec's own option wins");
  const unknownEpoch = buildOptimizer(parseOptimizerSpec('xsam'), common) as XSAM;
  assert.equal(unknownEpoch.alphaEvery, 1, "the library's default without an epoch length");
  // 21 probe forward passes (half a pass each) once per 79 steps on top of the 2 passes.
  assert.equal(passesPerStep(parseOptimizerSpec('xsam'), { stepsPerEpoch: 79 }), 2 + 21 / 2 / 79);
  for (const o of [perEpoch, explicit, unknownEpoch]) o.dispose();
});
