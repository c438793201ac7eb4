import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose, axpy, norm, quadratic, quadraticGradient } from '../testing/problems.js';
import { fsam } from './fsam.js';

for (const backend of TEST_BACKENDS) {
  test(`${backend}: F-SAM ascends along g − σ·m_prev (three steps on the quadratic)`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = fsam(tf.train.sgd(0.1), { rho: 0.05, sigma: 0.5, lambda: 0.8 });
    for (let t = 0; t < 3; t++) tf.dispose(optimizer.step(p.loss, [p.w]));
    let w = [1, 1];
    let m: number[] | null = null;
    for (let t = 0; t < 3; t++) {
      const g = quadraticGradient(w);
      const d: number[] = m === null ? g : axpy(-0.5, m, g);
      m =
        m === null
          ? g
          : axpy(
              0.2,
              g,
              m.map((v) => 0.8 * v),
            );
      const gSam = quadraticGradient(axpy(0.05 / norm(d), d, w));
      w = axpy(-0.1, gSam, w);
    }
    assertClose(p.values(), w, 1e-6);
    optimizer.dispose();
    p.dispose();
  });
}

test('F-SAM validates sigma and lambda', () => {
  assert.throws(
    () => fsam(tf.train.sgd(0.1), { lambda: 1.5 }),
    /FSAM: option 'lambda' is 1.5; expected a finite number >= 0 and <= 1/,
  );
  assert.throws(() => fsam(tf.train.sgd(0.1), { sigma: -1 }), /option 'sigma' is -1/);
});
