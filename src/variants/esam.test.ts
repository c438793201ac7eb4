import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose, axpy, norm } from '../testing/problems.js';
import { gradientAt, lossesAt, regression } from '../testing/regression.js';
import { esam } from './esam.js';

let counter = 0;

/** Two independent quadratics ½·a·‖u‖² and ½·b·v², so each variable's SAM gradient is its own. */
function twoVariables() {
  const u = tf.variable(tf.tensor1d([1, -1]), true, `esam_u_${counter}`);
  const v = tf.variable(tf.tensor1d([2]), true, `esam_v_${counter++}`);
  const loss = () =>
    tf.tidy(
      () =>
        tf.add(tf.mul(0.5, tf.sum(tf.square(u))), tf.mul(1.5, tf.sum(tf.square(v)))) as tf.Scalar,
    );
  return { u, v, loss, dispose: () => tf.dispose([u, v]) };
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: ESAM perturbs only the drawn variables, by ρ·g/(‖g‖+1e-7)/β over them`, async () => {
    await useBackend(backend);
    const beta = 0.5;
    let seed = 0;
    while (new Set(esam(tf.train.sgd(0.1), { beta, gamma: 1, seed }).perturbedAt(0, 2)).size < 2)
      seed++;
    const p = twoVariables();
    const optimizer = esam(tf.train.sgd(0.1), { rho: 0.05, beta, gamma: 1, seed });
    const kept = optimizer.perturbedAt(0, 2);
    tf.dispose(optimizer.step(p.loss, [p.u, p.v]));
    const [gu, gv] = [[1, -1], [3 * 2]];
    const keptNorm = kept[0] ? norm(gu) : norm(gv);
    const scale = 0.05 / (keptNorm + 1e-7) / beta;
    const uAt = kept[0] ? axpy(scale, gu, [1, -1]) : [1, -1];
    const vAt = kept[1] ? axpy(scale, gv, [2]) : [2];
    assertClose(Array.from(p.u.dataSync()), axpy(-0.1, uAt, [1, -1]), 1e-6, 'u');
    assertClose(
      Array.from(p.v.dataSync()),
      axpy(
        -0.1,
        vAt.map((x) => 3 * x),
        [2],
      ),
      1e-6,
      'v',
    );
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: ESAM's first pass differentiates only the kept variables; the base trains all`, async () => {
    await useBackend(backend);
    const beta = 0.5;
    let seed = 0;
    const drawsOneOfTwo = (s: number) =>
      new Set(esam(tf.train.sgd(0.1), { beta, gamma: 1, seed: s }).perturbedAt(0, 2)).size === 2;
    while (!drawsOneOfTwo(seed)) seed++;
    const engine = tf.engine() as unknown as { gradients: (...args: unknown[]) => unknown };
    const original = engine.gradients;
    const differentiated: number[] = [];
    engine.gradients = function (this: unknown, ...args: unknown[]) {
      differentiated.push((args[1] as unknown[]).length);
      return original.apply(this, args);
    };
    try {
      const p = twoVariables();
      const before = [Array.from(p.u.dataSync()), Array.from(p.v.dataSync())];
      const optimizer = esam(tf.train.sgd(0.1), { rho: 0.05, beta, gamma: 1, seed });
      tf.dispose(optimizer.step(p.loss, [p.u, p.v]));
      assert.deepEqual(differentiated, [1, 2], 'variables differentiated by the two passes');
      assert.notDeepEqual(Array.from(p.u.dataSync()), before[0], 'u was trained');
      assert.notDeepEqual(Array.from(p.v.dataSync()), before[1], 'v was trained');
      optimizer.dispose();
      p.dispose();

      differentiated.length = 0;
      const r = regression();
      const bias = tf.variable(tf.scalar(0.1), true, `esam_bias_${counter++}`);
      const withBias = (indices: tf.Tensor1D | null) =>
        tf.tidy(() => tf.add(r.perExample(indices), tf.square(bias)) as tf.Tensor1D);
      const selecting = esam(tf.train.sgd(0.1), { rho: 0.05, beta, gamma: 0.5, seed });
      tf.dispose(selecting.stepWithDataSelection(withBias, [r.w, bias]));
      assert.deepEqual(differentiated, [1, 2], 'with data selection');
      assert.ok(Math.abs((bias.dataSync()[0] as number) - 0.1) > 1e-4, 'the bias was trained');
      selecting.dispose();
      bias.dispose();
      r.dispose();
    } finally {
      engine.gradients = original;
    }
  });

  test(`${backend}: ESAM data selection takes the second gradient on the ⌊γn⌋ sharpest examples`, async () => {
    await useBackend(backend);
    const p = regression();
    const optimizer = esam(tf.train.sgd(0.1), { rho: 0.2, beta: 1, gamma: 0.5 });
    const loss = optimizer.stepWithDataSelection(p.perExample, [p.w]);
    const w = [0.3, -0.2];
    const g = gradientAt(w);
    const perturbed = axpy(0.2 / (norm(g) + 1e-7), g, w);
    const before = lossesAt(w);
    const rise = lossesAt(perturbed).map((l, i) => l - (before[i] as number));
    const sharpest = [0, 1, 2, 3]
      .sort((a, b) => (rise[b] as number) - (rise[a] as number))
      .slice(0, 2);
    assertClose(p.values(), axpy(-0.1, gradientAt(perturbed, sharpest), w), 1e-5);
    assertClose([loss.dataSync()[0] as number], [before.reduce((s, l) => s + l, 0) / 4], 1e-6);
    loss.dispose();
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: ESAM is deterministic under its seed and leaks no tensors`, async () => {
    await useBackend(backend);
    const runs = [regression(), regression()].map((p) => {
      const optimizer = esam(tf.train.momentum(0.05, 0.9), { seed: 3 });
      tf.dispose(optimizer.stepWithDataSelection(p.perExample, [p.w]));
      const start = tf.memory().numTensors;
      for (let i = 0; i < 100; i++)
        tf.dispose(optimizer.stepWithDataSelection(p.perExample, [p.w]));
      assert.equal(tf.memory().numTensors, start, 'tensors over 100 steps');
      const values = p.values();
      optimizer.dispose();
      p.dispose();
      return values;
    });
    assert.deepEqual(runs[0], runs[1]);
  });
}

test('ESAM refuses fit and step(lossFn) when gamma < 1, and bad options, with actionable errors', async () => {
  await useBackend('cpu');
  const p = regression();
  const optimizer = esam(tf.train.sgd(0.1), { gamma: 0.5 });
  const mean = () => tf.mean(p.perExample(null)) as tf.Scalar;
  assert.throws(
    () => optimizer.minimize(mean),
    /gamma is 0\.5.*model\.fit \/ minimize cannot provide.*stepWithDataSelection.*gamma: 1/,
  );
  assert.throws(() => optimizer.step(mean, [p.w]), /step\(lossFn\) cannot provide/);
  const swpOnly = esam(tf.train.sgd(0.1), { gamma: 1 });
  tf.dispose(swpOnly.step(mean, [p.w]));
  assert.throws(() => esam(tf.train.sgd(0.1), { beta: 0 }), /ESAM: option 'beta' is 0/);
  assert.throws(() => esam(tf.train.sgd(0.1), { gamma: 1.5 }), /ESAM: option 'gamma' is 1.5/);
  optimizer.dispose();
  swpOnly.dispose();
  p.dispose();
});
