/**
 * `adaptive: true` (ASAM's ε = ρ·T²g/‖Tg‖, T = |w| + η) reaches the perturbation of every variant:
 * each variant, set to the settings where it reduces to SAM, must take ASAM's step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type { SamOptions } from '../core/sam.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose, axpy, norm, quadratic, quadraticGradient } from '../testing/problems.js';
import { esam } from './esam.js';
import { fsam } from './fsam.js';
import { gsam } from './gsam.js';
import { looksam } from './looksam.js';
import { msam } from './msam.js';
import { wsam } from './wsam.js';
import { xsam } from './xsam.js';

/** |w| ≠ 1, so that ASAM's step differs from SAM's. */
const START = [2, 0.5] as const;
const adaptive: SamOptions = { rho: 0.5, adaptive: true, eta: 0, adaptiveScope: 'all' };

const REDUCING_TO_SAM: Array<[string, () => tf.Optimizer]> = [
  ['GSAM (α 0)', () => gsam(tf.train.sgd(0.1), { ...adaptive, alpha: 0 })],
  [
    'WSAM (γ 0.5, coupled)',
    () => wsam(tf.train.sgd(0.1), { ...adaptive, gamma: 0.5, decouple: false }),
  ],
  ['LookSAM (first step)', () => looksam(tf.train.sgd(0.1), { ...adaptive, k: 3 })],
  ['F-SAM (first step)', () => fsam(tf.train.sgd(0.1), adaptive)],
  [
    'ESAM (β 1, γ 1)',
    () => esam(tf.train.sgd(0.1), { ...adaptive, beta: 1, gamma: 1, epsilon: 1e-12 }),
  ],
  ['XSAM (α 1)', () => xsam(tf.train.sgd(0.1), { ...adaptive, alpha: 1, dynamic: false })],
];

/** Float64 ASAM step (η 0, every variable scaled) on the quadratic from START. */
function asamStep(rho: number, lr: number): number[] {
  const w = [...START];
  const g = quadraticGradient(w);
  const scaled = g.map((x, i) => Math.abs(w[i] as number) * x);
  const epsilon = g.map((x, i) => (rho * (w[i] as number) ** 2 * x) / norm(scaled));
  return axpy(-lr, quadraticGradient(axpy(1, epsilon, w)), w);
}

/** Float64 SAM step, to show the example tells ASAM from SAM. */
function samStep(rho: number, lr: number): number[] {
  const w = [...START];
  const g = quadraticGradient(w);
  return axpy(-lr, quadraticGradient(axpy(rho / norm(g), g, w)), w);
}

for (const backend of TEST_BACKENDS) {
  for (const [name, make] of REDUCING_TO_SAM) {
    test(`${backend}: ${name} with adaptive: true takes ASAM's step`, async () => {
      await useBackend(backend);
      const p = quadratic(START);
      const optimizer = make();
      const loss = (
        optimizer as unknown as { step: (f: () => tf.Scalar, v: tf.Variable[]) => tf.Scalar }
      ).step(p.loss, [p.w]);
      assertClose(p.values(), asamStep(0.5, 0.1), 1e-6, name);
      assert.throws(() => assertClose(p.values(), samStep(0.5, 0.1), 1e-3), /differs/);
      tf.dispose(loss);
      optimizer.dispose();
      p.dispose();
    });
  }
}

test('MSAM has no ascent to scale: adaptive is refused with the list of its options', () => {
  assert.throws(
    () => msam(tf.train.momentum(0.1, 0.9), { adaptive: true } as never),
    /MSAM.*adaptive.*rho, weightDecay, epsilon/,
  );
});
