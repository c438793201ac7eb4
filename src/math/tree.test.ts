import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import {
  addScaled,
  allFinite,
  clipByGlobalNorm,
  dot,
  globalNorm,
  normalize,
  orthogonalComponent,
  orthogonalComponentPerTensor,
  scaledSlerp,
  slerp,
} from './tree.js';
import { adaptivePerturbation, isScaleLikeVariable, samPerturbation } from './perturbation.js';

const close = (actual: number, expected: number, tol = 1e-6) =>
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${actual} != ${expected}`,
  );
const values = (tree: tf.Tensor[]) => tree.map((t) => Array.from(t.dataSync()));

for (const backend of TEST_BACKENDS) {
  test(`${backend}: tree math on hand-computed values`, async () => {
    await useBackend(backend);
    const before = tf.memory().numTensors;
    const a = [tf.tensor1d([3, 0]), tf.tensor2d([[4]])];
    const b = [tf.tensor1d([1, 2]), tf.tensor2d([[0.5]])];
    const norm = globalNorm(a);
    close(norm.dataSync()[0] as number, 5);
    const d = dot(a, b);
    close(d.dataSync()[0] as number, 3 + 2);
    const unit = normalize(a, 1e-12);
    assert.deepEqual(
      values(unit)
        .flat()
        .map((v) => Math.round(v * 1e6) / 1e6),
      [0.6, 0, 0.8],
    );
    const moved = addScaled(a, b, 2);
    assert.deepEqual(values(moved), [[5, 4], [5]]);
    // a⊥b = a − (⟨a,b⟩/‖b‖²)·b with ⟨a,b⟩ = 5, ‖b‖² = 5.25.
    const perp = orthogonalComponent(a, b, 0);
    const k = 5 / 5.25;
    values(perp)
      .flat()
      .forEach((v, i) => close(v, [3 - k, -2 * k, 4 - 0.5 * k][i] as number));
    const residual = dot(perp, b);
    close(residual.dataSync()[0] as number, 0);
    const perTensor = orthogonalComponentPerTensor(a, b, 0);
    // First tensor: ⟨(3,0),(1,2)⟩ = 3, ‖(1,2)‖² = 5; the second is parallel to its partner → 0.
    values(perTensor)
      .flat()
      .forEach((v, i) => close(v, [3 - 0.6, -1.2, 0][i] as number));
    tf.dispose([...a, ...b, norm, d, ...unit, ...moved, ...perp, residual, ...perTensor]);
    assert.equal(tf.memory().numTensors, before);
  });

  test(`${backend}: normalize and the SAM perturbation of a zero gradient are zero, not NaN`, async () => {
    await useBackend(backend);
    const zero = [tf.zeros([3]), tf.zeros([2, 2])];
    const unit = normalize(zero, 1e-12);
    const e = samPerturbation(zero, 0.05, 1e-12);
    for (const t of [...unit, ...e]) assert.ok(Array.from(t.dataSync()).every((v) => v === 0));
    tf.dispose([...zero, ...unit, ...e]);
  });

  test(`${backend}: clipByGlobalNorm rescales only above the limit`, async () => {
    await useBackend(backend);
    const g = [tf.tensor1d([3, 4])];
    const clipped = clipByGlobalNorm(g, 1);
    values(clipped)[0]?.forEach((v, i) => close(v, [0.6, 0.8][i] as number));
    const untouched = clipByGlobalNorm(g, 10);
    assert.deepEqual(values(untouched), [[3, 4]]);
    tf.dispose([...g, ...clipped, ...untouched]);
  });

  test(`${backend}: slerp endpoints, midpoint, extrapolation and the parallel fallback`, async () => {
    await useBackend(backend);
    const v0 = [tf.tensor1d([1, 0])];
    const v1 = [tf.tensor1d([0, 1])];
    const at0 = slerp(v0, v1, 0);
    const at1 = slerp(v0, v1, 1);
    const mid = slerp(v0, v1, 0.5);
    const beyond = slerp(v0, v1, 2); // θ = π/2: α = 2 rotates to (−1, 0).
    values(at0)[0]?.forEach((v, i) => close(v, [1, 0][i] as number));
    values(at1)[0]?.forEach((v, i) => close(v, [0, 1][i] as number));
    values(mid)[0]?.forEach((v) => close(v, Math.SQRT1_2));
    values(beyond)[0]?.forEach((v, i) => close(v, [-1, 0][i] as number));
    const same = slerp(v0, v0, 0.3);
    assert.deepEqual(values(same), [[1, 0]]);
    tf.dispose([...v0, ...v1, ...at0, ...at1, ...mid, ...beyond, ...same]);
  });

  test(`${backend}: allFinite detects NaN and Inf without overflowing on large finite values`, async () => {
    await useBackend(backend);
    const big = [tf.tensor1d([3e38, -3e38])];
    const inf = [tf.tensor1d([1, Infinity])];
    const nan = [tf.tensor1d([NaN]), tf.tensor1d([1])];
    assert.equal(allFinite(big), true);
    assert.equal(allFinite(inf), false);
    assert.equal(allFinite(nan), false);
    tf.dispose([...big, ...inf, ...nan]);
  });

  test(`${backend}: ASAM perturbation ρ·T²g/‖Tg‖ with T = |w| + η on scale-like tensors only`, async () => {
    await useBackend(backend);
    const w = [tf.tensor1d([2, -1]), tf.tensor1d([5])];
    const g = [tf.tensor1d([1, 1]), tf.tensor1d([2])];
    const eta = 0.5;
    // T = (2.5, 1.5) on the first tensor, 1 on the second (mask false).
    const tg = [2.5, 1.5, 2];
    const norm = Math.hypot(...tg);
    const expected = [2.5 * 2.5, 1.5 * 1.5, 2].map((v) => (0.1 * v) / norm);
    const e = adaptivePerturbation(g, w, [true, false], 0.1, eta, 1e-12);
    values(e)
      .flat()
      .forEach((v, i) => close(v, expected[i] as number));
    tf.dispose([...w, ...g, ...e]);
  });
}

test('isScaleLikeVariable follows the official ASAM split (biases and BN offsets unscaled)', () => {
  assert.equal(isScaleLikeVariable('dense_Dense1/kernel'), true);
  assert.equal(isScaleLikeVariable('batch_normalization_1/gamma'), true);
  assert.equal(isScaleLikeVariable('dense_Dense1/bias'), false);
  assert.equal(isScaleLikeVariable('dense_Dense1/bias_3'), false);
  assert.equal(isScaleLikeVariable('batch_normalization_1/beta'), false);
});

test('scaledSlerp is ‖b‖·slerp(a/‖a‖, b/‖b‖, α), in float64 arithmetic by hand', async () => {
  await useBackend('cpu');
  const before = tf.memory().numTensors;
  // a = (3, 0 | 4) with ‖a‖ = 5, b = (1, 2 | 2) with ‖b‖ = 3, ⟨a, b⟩ = 11.
  const a = [tf.tensor1d([3, 0]), tf.tensor1d([4])];
  const b = [tf.tensor1d([1, 2]), tf.tensor1d([2])];
  const [ua, ub] = [
    [3 / 5, 0, 4 / 5],
    [1 / 3, 2 / 3, 2 / 3],
  ];
  const theta = Math.acos(11 / 15);
  for (const alpha of [0, 0.3, 1, 1.7, 2]) {
    const w0 = Math.sin((1 - alpha) * theta) / Math.sin(theta);
    const w1 = Math.sin(alpha * theta) / Math.sin(theta);
    const expected = ua.map((x, i) => 3 * (w0 * x + w1 * (ub[i] as number)));
    const got = scaledSlerp(a, b, alpha, 1e-12);
    values(got)
      .flat()
      .forEach((v, i) => close(v, expected[i] as number, 1e-6));
    // The two-step form the update used before gives the same numbers.
    const [v0, v1] = [normalize(a, 1e-12), normalize(b, 1e-12)];
    const direction = slerp(v0, v1, alpha);
    values(direction)
      .flat()
      .forEach((v, i) => close(3 * v, values(got).flat()[i] as number, 1e-6));
    tf.dispose([...got, ...v0, ...v1, ...direction]);
  }
  // Parallel a and b: sin θ = 0, the mean of the unit directions, times ‖b‖.
  const parallel = scaledSlerp(a, [tf.mul(a[0]!, 2), tf.mul(a[1]!, 2)], 1.5, 1e-12);
  values(parallel)
    .flat()
    .forEach((v, i) => close(v, 10 * ([3 / 5, 0, 4 / 5][i] as number), 1e-5));
  tf.dispose([...a, ...b, ...parallel]);
  assert.ok(tf.memory().numTensors <= before + 2, 'only the two doubled inputs are left');
});
