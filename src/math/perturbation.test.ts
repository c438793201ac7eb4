import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose } from '../testing/problems.js';
import { adaptivePerturbation, infinityPerturbation, maskedPerturbation } from './perturbation.js';

const values = (ts: readonly (tf.Tensor | null)[]) =>
  ts.map((t) => (t === null ? null : Array.from(t.dataSync())));

for (const backend of TEST_BACKENDS) {
  test(`${backend}: the ∞-norm ascent is ρ·sign(g), and ρ·T·sign(g) where ASAM scales`, async () => {
    await useBackend(backend);
    const g = [tf.tensor1d([0.5, -2, 0]), tf.tensor1d([-3])];
    const w = [tf.tensor1d([1, -4, 2]), tf.tensor1d([0.5])];
    const plain = infinityPerturbation(g, w, null, 0.1, 0.01);
    assertClose(values(plain)[0] as number[], [0.1, -0.1, 0], 1e-7, 'sign, zero stays zero');
    assertClose(values(plain)[1] as number[], [-0.1], 1e-7);
    const scaled = infinityPerturbation(g, w, [true, false], 0.1, 0.01);
    assertClose(values(scaled)[0] as number[], [0.1 * 1.01, -0.1 * 4.01, 0], 1e-6, 'T = |w| + η');
    assertClose(values(scaled)[1] as number[], [-0.1], 1e-7, 'T = 1 where the mask says so');
    const layerwise = infinityPerturbation(g, w, [true, true], 0.1, 0.01, 'layerwise');
    const t0 = Math.hypot(1, -4, 2) + 0.01;
    assertClose(values(layerwise)[0] as number[], [0.1 * t0, -0.1 * t0, 0], 1e-5, 'T = ‖w‖ + η');
    tf.dispose([...g, ...w, ...plain, ...scaled, ...layerwise]);
  });

  test(`${backend}: layer-wise ASAM scales each tensor by ‖w‖ + η`, async () => {
    await useBackend(backend);
    const g = [tf.tensor1d([3, 4]), tf.tensor1d([1])];
    const w = [tf.tensor1d([0, 2]), tf.tensor1d([-1])];
    const eps = adaptivePerturbation(g, w, [true, true], 0.5, 0.1, 1e-12, 'layerwise');
    // T = (2.1, 1.1); ε = ρ·T²g/‖T·g‖ with ‖T·g‖ = ‖(2.1·3, 2.1·4, 1.1·1)‖.
    const norm = Math.hypot(2.1 * 3, 2.1 * 4, 1.1);
    assertClose(
      values(eps)[0] as number[],
      [3, 4].map((v) => (0.5 * 2.1 * 2.1 * v) / norm),
      1e-5,
    );
    assertClose(values(eps)[1] as number[], [(0.5 * 1.1 * 1.1) / norm], 1e-5);
    tf.dispose([...g, ...w, ...eps]);
  });

  test(`${backend}: the masked perturbation normalizes over the perturbed tensors only`, async () => {
    await useBackend(backend);
    const variables = [tf.variable(tf.tensor1d([1, 1])), tf.variable(tf.tensor1d([1]))];
    const g = [tf.tensor1d([3, 4]), tf.tensor1d([12])];
    const plan = {
      perturbedMask: [true, false],
      adaptive: false,
      adaptiveMask: [true, true],
      adaptiveScaling: 'elementwise' as const,
      norm: 'l2' as const,
      eta: 0,
      epsilon: 1e-12,
    };
    const eps = maskedPerturbation(variables, g, plan, 0.5);
    assertClose(values(eps)[0] as number[], [0.3, 0.4], 1e-6, 'ρ·g/‖g‖ over the first alone');
    if (eps[1] !== null) throw new Error('the second tensor is not perturbed');
    const linf = maskedPerturbation(variables, g, { ...plan, norm: 'linf' }, 0.5);
    assertClose(values(linf)[0] as number[], [0.5, 0.5], 1e-7);
    tf.dispose([
      ...variables,
      ...g,
      ...eps.filter((e) => e !== null),
      ...linf.filter((e) => e !== null),
    ]);
  });
}
