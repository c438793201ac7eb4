import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { sam } from '../core/sam.js';
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
import { xsam } from './xsam.js';

const quadraticLoss = (w: readonly number[]) =>
  0.5 * ((w[0] as number) ** 2 + 4 * (w[1] as number) ** 2);

/** Float64 slerp of unit 2-vectors. */
function slerp2(v0: number[], v1: number[], alpha: number): number[] {
  const theta = Math.acos(Math.min(1, Math.max(-1, dot(v0, v1))));
  if (Math.abs(Math.sin(theta)) < 1e-8) return v0.map((x, i) => (x + (v1[i] as number)) / 2);
  const a = Math.sin((1 - alpha) * theta) / Math.sin(theta);
  const b = Math.sin(alpha * theta) / Math.sin(theta);
  return v0.map((x, i) => a * x + b * (v1[i] as number));
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: XSAM with α = 1 is SAM, bit for bit`, async () => {
    await useBackend(backend);
    const [a, b] = [quadratic([1, -2]), quadratic([1, -2])];
    const plain = sam(tf.train.momentum(0.05, 0.9), { rho: 0.1 });
    const interpolated = xsam(tf.train.momentum(0.05, 0.9), { rho: 0.1, alpha: 1, dynamic: false });
    for (let i = 0; i < 8; i++) {
      tf.dispose(plain.step(a.loss, [a.w]));
      tf.dispose(interpolated.step(b.loss, [b.w]));
      assert.deepEqual(b.values(), a.values(), `step ${i}`);
    }
    plain.dispose();
    interpolated.dispose();
    a.dispose();
    b.dispose();
  });

  test(`${backend}: XSAM hands the base ‖g_k‖·slerp(v0, v1, α) (fixed α, one step)`, async () => {
    await useBackend(backend);
    for (const alpha of [0, 0.5, 1.5]) {
      const p = quadratic();
      const optimizer = xsam(tf.train.sgd(0.1), { rho: 0.05, alpha, dynamic: false });
      tf.dispose(optimizer.step(p.loss, [p.w]));
      const g = quadraticGradient([1, 1]);
      const gk = quadraticGradient(samPoint([1, 1], 0.05));
      const v0 = g.map((x) => x / norm(g));
      const v1 = gk.map((x) => x / norm(gk));
      const update = slerp2(v0, v1, alpha).map((x) => x * norm(gk));
      assertClose(p.values(), axpy(-0.1, update, [1, 1]), 1e-6, `alpha ${alpha}`);
      optimizer.dispose();
      p.dispose();
    }
  });

  test(`${backend}: XSAM's dynamic search picks the grid α with the largest probe loss`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = xsam(tf.train.sgd(0.1), {
      rho: 0.2,
      rhoMax: 0.6,
      alphaMax: 3,
      alphaDelta: 0.25,
    });
    tf.dispose(optimizer.step(p.loss, [p.w]));
    const g = quadraticGradient([1, 1]);
    const gk = quadraticGradient(samPoint([1, 1], 0.2));
    const v0 = g.map((x) => x / norm(g));
    const v1 = gk.map((x) => x / norm(gk));
    const grid = optimizer.alphaGrid();
    assert.deepEqual(
      grid,
      Array.from({ length: 13 }, (_, i) => i * 0.25),
    );
    const probes = grid.map((alpha) => quadraticLoss(axpy(0.6, slerp2(v0, v1, alpha), [1, 1])));
    assertClose(optimizer.lastProbeLosses as number[], probes, 1e-5, 'probe losses');
    const best = grid[probes.indexOf(Math.max(...probes))] as number;
    assert.equal(optimizer.alpha, best);
    assert.notEqual(best, 1, 'the example must exercise α ≠ 1');
    const update = slerp2(v0, v1, best).map((x) => x * norm(gk));
    assertClose(p.values(), axpy(-0.1, update, [1, 1]), 1e-6, 'weights');
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: XSAM searches only every alphaEvery steps and leaks no tensors`, async () => {
    await useBackend(backend);
    const p = quadratic();
    const optimizer = xsam(tf.train.momentum(0.01, 0.9), { alphaEvery: 3 });
    const searched: boolean[] = [];
    for (let i = 0; i < 6; i++) {
      optimizer.lastProbeLosses = null;
      tf.dispose(optimizer.step(p.loss, [p.w]));
      searched.push(optimizer.lastProbeLosses !== null);
    }
    assert.deepEqual(searched, [true, false, false, true, false, false]);
    const start = tf.memory().numTensors;
    for (let i = 0; i < 100; i++) tf.dispose(optimizer.step(p.loss, [p.w]));
    assert.equal(tf.memory().numTensors, start);
    optimizer.dispose();
    p.dispose();
  });
}

test('XSAM: options and the two-call API are checked with actionable errors', async () => {
  await useBackend('cpu');
  assert.throws(() => xsam(tf.train.sgd(0.1), { alphaDelta: 0 }), /XSAM: option 'alphaDelta' is 0/);
  assert.throws(
    () => xsam(tf.train.sgd(0.1), { alphaMax: 100, alphaDelta: 0.01 }),
    /10001 points.*larger alphaDelta/,
  );
  assert.throws(() => xsam(tf.train.sgd(0.1), { alphaEvery: 1.5 }), /option 'alphaEvery' is 1.5/);
  const defaults = xsam(tf.train.sgd(0.1));
  assert.equal(defaults.rho, 0.15);
  assert.equal(defaults.rhoMax, 0.3);
  defaults.dispose();

  const p = quadratic();
  const dynamic = xsam(tf.train.sgd(0.1));
  const first = tf.variableGrads(p.loss, [p.w]);
  dynamic.firstStep(first.grads);
  const second = tf.variableGrads(p.loss, [p.w]);
  assert.throws(() => dynamic.secondStep(second.grads), /dynamic α search needs the loss function/);
  tf.dispose([
    first.value,
    second.value,
    ...Object.values(first.grads),
    ...Object.values(second.grads),
  ]);
  dynamic.dispose();

  const fixed = xsam(tf.train.sgd(0.1), { dynamic: false, alpha: 0.5 });
  const g1 = tf.variableGrads(p.loss, [p.w]);
  assert.equal(fixed.firstStep(g1.grads), true);
  const g2 = tf.variableGrads(p.loss, [p.w]);
  assert.equal(fixed.secondStep(g2.grads), true);
  tf.dispose([g1.value, g2.value, ...Object.values(g1.grads), ...Object.values(g2.grads)]);
  fixed.dispose();
  p.dispose();
});
