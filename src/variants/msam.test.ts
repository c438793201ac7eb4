import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from '../optimizers/adamw.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose, axpy, norm, quadratic, quadraticGradient } from '../testing/problems.js';
import { msam } from './msam.js';

/** Float64 MSAM with SGD momentum on the quadratic: returns w after each step. */
function expectedMomentumTrajectory(
  steps: number,
  lr: number,
  beta: number,
  rho: number,
  wd: number,
) {
  let w = [1, 1];
  let v = [0, 0];
  const out: number[][] = [];
  for (let t = 0; t < steps; t++) {
    const vNorm = norm(v);
    const held = vNorm === 0 ? w : axpy(-rho / (vNorm + 1e-12), v, w);
    const g = axpy(wd, held, quadraticGradient(held));
    v = axpy(beta, v, g);
    w = axpy(-lr, v, w);
    out.push(w);
  }
  return out;
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: MSAM takes the gradient at w − ρ·v/‖v‖ and leaves w in place between steps`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = msam(tf.train.momentum(0.1, 0.9), { rho: 0.3, weightDecay: 0.01 });
    const expected = expectedMomentumTrajectory(5, 0.1, 0.9, 0.3, 0.01);
    for (const [t, w] of expected.entries()) {
      const loss = optimizer.step(p.loss, [p.w]);
      assertClose(p.values(), w, 1e-5, `step ${t}`);
      loss.dispose();
    }
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: MSAM reports the loss at the held point`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = msam(tf.train.momentum(0.1, 0.9), { rho: 0.3 });
    tf.dispose(optimizer.step(p.loss, [p.w]));
    const w = p.values();
    const v = quadraticGradient([1, 1]);
    const held = axpy(-0.3 / norm(v), v, w);
    const loss = optimizer.step(p.loss, [p.w]);
    const expected = 0.5 * ((held[0] as number) ** 2 + 4 * (held[1] as number) ** 2);
    assertClose([loss.dataSync()[0] as number], [expected], 1e-6);
    tf.dispose(loss);
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: MSAM over AdamW shifts along the first moment m`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const base = new AdamW({ learningRate: 0.01, weightDecay: 0 });
    const optimizer = msam(base, { rho: 0.2 });
    tf.dispose(optimizer.step(p.loss, [p.w]));
    const w = p.values();
    const m = Array.from((base.firstMoments([p.w])[0] as tf.Variable).dataSync());
    optimizer.moveToHeldPoint([p.w]);
    assertClose(p.values(), axpy(-0.2 / norm(m), m, w), 1e-6, 'held point');
    const grads = tf.variableGrads(p.loss, [p.w]);
    optimizer.applyAtHeldPoint(grads.grads);
    tf.dispose([grads.value, ...Object.values(grads.grads)]);
    assert.notDeepEqual(p.values(), w);
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: MSAM leaks no tensors over 200 steps`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = msam(tf.train.momentum(0.01, 0.9), { weightDecay: 1e-3 });
    tf.dispose(optimizer.step(p.loss, [p.w]));
    const start = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) tf.dispose(optimizer.step(p.loss, [p.w]));
    assert.equal(tf.memory().numTensors, start);
    optimizer.dispose();
    p.dispose();
  });
}

test('MSAM refuses bases without a momentum buffer, bad options and misuse, with actionable errors', async () => {
  await useBackend('cpu');
  assert.throws(() => msam(tf.train.sgd(0.1)), /base optimizer is SGD.*Use tf\.train\.momentum/);
  assert.throws(() => msam(tf.train.momentum(0.1, 0.9), { rho: -1 }), /MSAM: option 'rho' is -1/);
  assert.throws(
    () => msam(tf.train.momentum(0.1, 0.9), { adaptive: true } as never),
    /MSAM.*adaptive/,
  );
  const p = quadratic();
  const optimizer = msam(tf.train.momentum(0.1, 0.9));
  assert.throws(() => optimizer.applyAtHeldPoint([]), /without moveToHeldPoint/);
  optimizer.moveToHeldPoint([p.w]);
  assert.throws(() => optimizer.moveToHeldPoint([p.w]), /called twice/);
  optimizer.dispose();
  p.dispose();
});
