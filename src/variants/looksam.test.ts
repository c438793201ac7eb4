import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import {
  assertClose,
  axpy,
  dot,
  norm,
  quadratic,
  quadraticGradient,
  samPoint,
} from '../testing/problems.js';
import { looksam } from './looksam.js';

/** Float64 LookSAM on the quadratic (one tensor, so per-tensor and global projections agree). */
function reference(steps: number, k: number, alpha: number, rho: number, lr: number): number[] {
  let w = [1, 1];
  let gv = [0, 0];
  for (let t = 0; t < steps; t++) {
    const g = quadraticGradient(w);
    let update: number[];
    if (t % k === 0) {
      const gSam = quadraticGradient(samPoint(w, rho));
      gv = axpy(-dot(gSam, g) / dot(g, g), g, gSam);
      update = gSam;
    } else {
      update = axpy((alpha * norm(g)) / norm(gv), gv, g);
    }
    w = axpy(-lr, update, w);
  }
  return w;
}

for (const backend of TEST_BACKENDS) {
  for (const projection of ['per-tensor', 'global'] as const) {
    test(`${backend}: LookSAM (${projection}) reuses g_v between perturbed steps with one pass`, async () => {
      await useBackend(backend);
      const p = quadratic();
      const optimizer = looksam(tf.train.sgd(0.1), { rho: 0.05, k: 3, alpha: 0.7, projection });
      let passes = 0;
      const counted = () => {
        passes += 1;
        return p.loss();
      };
      for (let t = 0; t < 5; t++) tf.dispose(optimizer.step(counted, [p.w]));
      assertClose(p.values(), reference(5, 3, 0.7, 0.05, 0.1), 1e-5);
      // steps 0 and 3 take two passes, steps 1, 2, 4 one: 2 + 1 + 1 + 2 + 1
      assert.equal(passes, 7);
      optimizer.dispose();
      p.dispose();
    });
  }
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: LookSAM's two-call API completes reuse steps in firstStep`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = looksam(tf.train.sgd(0.1), { rho: 0.05, k: 3, alpha: 0.7 });
    const needed: boolean[] = [];
    for (let t = 0; t < 5; t++) {
      const first = tf.variableGrads(p.loss, [p.w]);
      const perturbed = optimizer.firstStep(first.grads);
      needed.push(perturbed);
      const second = tf.variableGrads(p.loss, [p.w]);
      assert.equal(optimizer.secondStep(second.grads), perturbed);
      tf.dispose([
        first.value,
        second.value,
        ...Object.values(first.grads),
        ...Object.values(second.grads),
      ]);
    }
    assert.deepEqual(needed, [true, false, false, true, false]);
    assertClose(p.values(), reference(5, 3, 0.7, 0.05, 0.1), 1e-5);
    optimizer.dispose();
    p.dispose();
  });
}

test('LookSAM validates its options', () => {
  assert.throws(
    () => looksam(tf.train.sgd(0.1), { k: 0 }),
    /LookSAM: option 'k' is 0; expected an integer >= 1/,
  );
  assert.throws(
    () => looksam(tf.train.sgd(0.1), { projection: 'layer' as never }),
    /option 'projection' is 'layer'; expected one of 'per-tensor', 'global'/,
  );
});
