import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose, axpy, quadratic, quadraticGradient, samPoint } from '../testing/problems.js';
import { sam } from '../core/sam.js';
import { wsam } from './wsam.js';

for (const backend of TEST_BACKENDS) {
  for (const decouple of [true, false]) {
    test(`${backend}: WSAM (${decouple ? 'decoupled' : 'coupled'}) with γ = 0.5 is SAM, and γ = 0.9 weights sharpness 9×`, async () => {
      await useBackend(backend);
      const a = quadratic();
      const b = quadratic();
      const weighted = wsam(tf.train.sgd(0.1), { rho: 0.05, gamma: 0.5, decouple });
      const plain = sam(tf.train.sgd(0.1), { rho: 0.05 });
      tf.dispose([weighted.step(a.loss, [a.w]), plain.step(b.loss, [b.w])]);
      assertClose(a.values(), b.values(), 1e-6);

      const c = quadratic();
      const nine = wsam(tf.train.sgd(0.1), { rho: 0.05, gamma: 0.9, decouple });
      tf.dispose(nine.step(c.loss, [c.w]));
      const g = quadraticGradient([1, 1]);
      const gSam = quadraticGradient(samPoint([1, 1], 0.05));
      // w − lr·g − lr·9·(g_sam − g), the same for both forms with SGD
      const expected = axpy(-0.1 * 9, axpy(-1, g, gSam), axpy(-0.1, g, [1, 1]));
      assertClose(c.values(), expected, 1e-6);
      [weighted, plain, nine].forEach((o) => o.dispose());
      [a, b, c].forEach((p) => p.dispose());
    });
  }
}

test('WSAM validates gamma and decouple', () => {
  assert.throws(
    () => wsam(tf.train.sgd(0.1), { gamma: 1 }),
    /WSAM: option 'gamma' is 1; expected a finite number >= 0 and < 1/,
  );
  assert.throws(
    () => wsam(tf.train.sgd(0.1), { decouple: 'yes' as never }),
    /option 'decouple' is 'yes'/,
  );
  assert.equal(wsam(tf.train.sgd(0.1), { gamma: 0.75 }).sharpnessWeight, 3);
});
