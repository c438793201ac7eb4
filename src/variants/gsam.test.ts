import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import {
  assertClose,
  axpy,
  dot,
  quadratic,
  quadraticGradient,
  samPoint,
} from '../testing/problems.js';
import { gsam } from './gsam.js';

for (const backend of TEST_BACKENDS) {
  test(`${backend}: GSAM hands the base g_sam − α·g⊥ (one step on the quadratic)`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = gsam(tf.train.sgd(0.1), { rho: 0.05, alpha: 0.4 });
    tf.dispose(optimizer.step(p.loss, [p.w]));
    const g = quadraticGradient([1, 1]);
    const gSam = quadraticGradient(samPoint([1, 1], 0.05));
    const gPerp = axpy(-dot(g, gSam) / dot(gSam, gSam), gSam, g);
    const update = axpy(-0.4, gPerp, gSam);
    assertClose(p.values(), axpy(-0.1, update, [1, 1]), 1e-6);
    optimizer.dispose();
    p.dispose();
  });
}

test('GSAM ties rho to the learning rate between rhoMin and rho', async () => {
  await useBackend('cpu');
  const optimizer = gsam(tf.train.sgd(0.1), { rho: 0.1, rhoMin: 0.02, lrMin: 0, lrMax: 0.1 });
  const rhoAt = (lr: number) => {
    optimizer.setLearningRate(lr);
    return (optimizer as unknown as { currentRho(): number }).currentRho();
  };
  assert.ok(Math.abs(rhoAt(0.1) - 0.1) < 1e-12);
  assert.ok(Math.abs(rhoAt(0.05) - 0.06) < 1e-12);
  assert.ok(Math.abs(rhoAt(0) - 0.02) < 1e-12);
  assert.throws(
    () => gsam(tf.train.sgd(0.1), { rhoMin: 0.01 }),
    /rhoMin, lrMin and lrMax go together/,
  );
  assert.throws(
    () => gsam(tf.train.sgd(0.1), { rho: 0.1, rhoMin: 0.01, lrMin: 0.1, lrMax: 0.1 }),
    /option 'lrMax' is 0.1; expected a finite number > 0.1/,
  );
  assert.throws(() => gsam(tf.train.sgd(0.1), { alpha: -1 }), /GSAM: option 'alpha' is -1/);
  optimizer.dispose();
});
