import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose, axpy, norm } from '../testing/problems.js';
import { gradientAt, regression } from '../testing/regression.js';
import { gsam } from '../variants/gsam.js';
import { sam } from './sam.js';

for (const backend of TEST_BACKENDS) {
  test(`${backend}: m-sharpness with one part is SAM, bit for bit`, async () => {
    await useBackend(backend);
    const [a, b] = [regression(), regression()];
    const plain = sam(tf.train.momentum(0.1, 0.9), { rho: 0.1 });
    const parts = sam(tf.train.momentum(0.1, 0.9), { rho: 0.1 });
    for (let i = 0; i < 6; i++) {
      tf.dispose(plain.step(a.meanOver([0, 1, 2, 3]), [a.w]));
      tf.dispose(parts.stepMSharpness([b.meanOver([0, 1, 2, 3])], [b.w]));
      assert.deepEqual(b.values(), a.values(), `step ${i}`);
    }
    plain.dispose();
    parts.dispose();
    a.dispose();
    b.dispose();
  });

  test(`${backend}: m-sharpness with two parts applies the MEAN of the parts' SAM gradients`, async () => {
    await useBackend(backend);
    const p = regression();
    const optimizer = sam(tf.train.sgd(0.1), { rho: 0.05 });
    const halves = [
      [0, 1],
      [2, 3],
    ];
    const loss = optimizer.stepMSharpness(
      halves.map((rows) => p.meanOver(rows)),
      [p.w],
    );
    const w = [0.3, -0.2];
    const samGradients = halves.map((rows) => {
      const g = gradientAt(w, rows);
      return gradientAt(axpy(0.05 / norm(g), g, w), rows);
    });
    const mean = (samGradients[0] as number[]).map(
      (x, i) => (x + (samGradients[1] as number[])[i]!) / 2,
    );
    assertClose(p.values(), axpy(-0.1, mean, w), 1e-6);
    loss.dispose();
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: m-sharpness leaks no tensors`, async () => {
    await useBackend(backend);
    const p = regression();
    const optimizer = sam(tf.train.momentum(0.01, 0.9), { adaptive: true });
    const fns = [p.meanOver([0, 1]), p.meanOver([2, 3])];
    tf.dispose(optimizer.stepMSharpness(fns, [p.w]));
    const start = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) tf.dispose(optimizer.stepMSharpness(fns, [p.w]));
    assert.equal(tf.memory().numTensors, start);
    optimizer.dispose();
    p.dispose();
  });
}

test('m-sharpness refuses variants that change the update, multi-step ascent and empty input', async () => {
  await useBackend('cpu');
  const p = regression();
  const part = p.meanOver([0, 1]);
  assert.throws(
    () => gsam(tf.train.sgd(0.1)).stepMSharpness([part], [p.w]),
    /GSAM changes the update/,
  );
  assert.throws(
    () => sam(tf.train.sgd(0.1), { ascentSteps: 2 }).stepMSharpness([part], [p.w]),
    /ascentSteps is 2/,
  );
  assert.throws(() => sam(tf.train.sgd(0.1)).stepMSharpness([], [p.w]), /non-empty array/);
  p.dispose();
});
