import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
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
    // A step that keeps one of the two tensors (the official code's first step keeps both).
    const oneOfTwo = [true, false];
    const p = twoVariables();
    const optimizer = esam(tf.train.sgd(0.1), {
      rho: 0.05,
      beta,
      gamma: 1,
      weightMask: () => oneOfTwo,
    });
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
    const weightMask = () => [true, false];
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
      const optimizer = esam(tf.train.sgd(0.1), { rho: 0.05, beta, gamma: 1, weightMask });
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
      const selecting = esam(tf.train.sgd(0.1), { rho: 0.05, beta, gamma: 0.5, weightMask });
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

  test(`${backend}: ESAM data selection takes the second gradient on the examples whose rise is above the ⌊γn⌋-th largest`, async () => {
    await useBackend(backend);
    const p = regression();
    const optimizer = esam(tf.train.sgd(0.1), { rho: 0.2, beta: 1, gamma: 0.5 });
    const loss = optimizer.stepWithDataSelection(p.perExample, [p.w]);
    const w = [0.3, -0.2];
    const g = gradientAt(w);
    const perturbed = axpy(0.2 / (norm(g) + 1e-7), g, w);
    const before = lossesAt(w);
    const rise = lossesAt(perturbed).map((l, i) => l - (before[i] as number));
    // n = 4, γ = 0.5: m = 2, and only the sharpest example rises strictly more than the second.
    const sharpest = [0, 1, 2, 3]
      .sort((a, b) => (rise[b] as number) - (rise[a] as number))
      .slice(0, 1);
    assert.deepEqual(optimizer.lastSelection, sharpest);
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

test('ESAM selects as the official code: strictly above the ⌊γn⌋-th largest rise, the whole batch from γ 0.99', () => {
  const rises = Array.from({ length: 16 }, (_, i) => ((i * 7) % 16) / 10);
  const count = (gamma: number, values: number[] = rises) =>
    esam(tf.train.sgd(0.1), { gamma }).selectExamples(values).length;
  assert.equal(count(0.5), 7, 'm = 8: the 7 rises above the 8th largest');
  assert.equal(count(0.75), 11, 'm = 12');
  assert.equal(count(0.99), 16, 'the whole batch');
  assert.equal(count(1), 16, 'the whole batch');
  const selected = esam(tf.train.sgd(0.1), { gamma: 0.5 }).selectExamples(rises);
  const cutoff = [...rises].sort((a, b) => b - a)[7] as number;
  assert.deepEqual(
    selected,
    rises.flatMap((r, i) => (r > cutoff ? [i] : [])),
    'the examples above the cutoff, sorted',
  );
  // Where strictly above leaves none (m = 1, or every rise tied), the ties with the cutoff.
  assert.deepEqual(esam(tf.train.sgd(0.1), { gamma: 0.25 }).selectExamples([1, 3, 2, 0]), [1]);
  assert.equal(
    count(
      0.5,
      Array.from({ length: 16 }, () => 0.5),
    ),
    16,
  );
});

test('ESAM perturbs every tensor at its first step, then each with probability β, from (seed, step) alone', () => {
  const optimizer = esam(tf.train.sgd(0.1), { beta: 0.3, seed: 4 });
  assert.deepEqual(optimizer.perturbedAt(0, 5), [true, true, true, true, true]);
  const draws = Array.from({ length: 400 }, (_, t) => optimizer.perturbedAt(t + 1, 5)).flat();
  const share = draws.filter(Boolean).length / draws.length;
  assert.ok(Math.abs(share - 0.3) < 0.05, `share of kept tensors ${share}, β 0.3`);
  assert.deepEqual(
    optimizer.perturbedAt(17, 5),
    esam(tf.train.sgd(0.1), { beta: 0.3, seed: 4 }).perturbedAt(17, 5),
  );
  assert.ok(optimizer.perturbedAt(17, 5).includes(true));
  assert.throws(
    () => esam(tf.train.sgd(0.1), { weightMask: () => [false, false] }).perturbedAt(3, 2),
    /weightMask\(3, 2\) returned \[false, false\]; expected 2 flags, at least one true/,
  );
});

for (const backend of TEST_BACKENDS) {
  test(`${backend}: ESAM with weight and data selection together: one step by hand`, async () => {
    await useBackend(backend);
    // l_i = ½(x_i·w + b − y_i)² over the four examples of the regression problem.
    const X = [
      [1, 2],
      [0.5, -1],
      [-1.5, 0.3],
      [2, 1],
    ];
    const Y = [1, -0.5, 0.2, 3];
    const residuals = (w: number[], b: number) =>
      X.map(
        (x, i) =>
          (x[0] as number) * (w[0] as number) +
          (x[1] as number) * (w[1] as number) +
          b -
          (Y[i] as number),
      );
    const losses = (w: number[], b: number) => residuals(w, b).map((e) => 0.5 * e * e);
    const gradient = (w: number[], b: number, rows: number[]) => {
      const e = residuals(w, b);
      const sum = (f: (i: number) => number) => rows.reduce((s, i) => s + f(i), 0) / rows.length;
      return {
        w: [0, 1].map((j) => sum((i) => (e[i] as number) * ((X[i] as number[])[j] as number))),
        b: sum((i) => e[i] as number),
      };
    };
    const w0 = [0.3, -0.2];
    const b0 = 0.1;
    const [rho, beta] = [0.2, 0.5];
    const w = tf.variable(tf.tensor1d(w0), true, `esam_both_w_${counter}`);
    const b = tf.variable(tf.scalar(b0), true, `esam_both_b_${counter++}`);
    const xs = tf.tensor2d(X);
    const ys = tf.tensor1d(Y);
    const perExample = (indices: tf.Tensor1D | null) =>
      tf.tidy(() => {
        const x = indices === null ? xs : tf.gather(xs, indices);
        const y = indices === null ? ys : tf.gather(ys, indices);
        const e = tf.sub(tf.add(tf.squeeze(tf.matMul(x, tf.reshape(w, [2, 1])), [1]), b), y);
        return tf.mul(0.5, tf.square(e)) as tf.Tensor1D;
      });
    const optimizer = esam(tf.train.sgd(0.1), {
      rho,
      beta,
      gamma: 0.5,
      weightMask: () => [true, false],
    });
    tf.dispose(optimizer.stepWithDataSelection(perExample, [w, b]));

    const g = gradient(w0, b0, [0, 1, 2, 3]);
    const scale = rho / (Math.hypot(...g.w) + 1e-7) / beta;
    const wAt = w0.map((v, j) => v + (g.w[j] as number) * scale);
    const before = losses(w0, b0);
    const rise = losses(wAt, b0).map((l, i) => l - (before[i] as number));
    const sorted = [...rise].sort((p, q) => q - p);
    const chosen = [0, 1, 2, 3].filter((i) => (rise[i] as number) > (sorted[1] as number));
    assert.deepEqual(optimizer.lastSelection, chosen);
    const g2 = gradient(wAt, b0, chosen);
    assertClose(
      Array.from(w.dataSync()),
      w0.map((v, j) => v - 0.1 * (g2.w[j] as number)),
      1e-5,
      'w',
    );
    assertClose([b.dataSync()[0] as number], [b0 - 0.1 * g2.b], 1e-5, 'b (not perturbed, trained)');
    optimizer.dispose();
    tf.dispose([w, b, xs, ys]);
  });

  test(`${backend}: ESAM's adaptive form is the official one: T = |w| on every tensor, ρ 0.05`, async () => {
    await useBackend(backend);
    const optimizer = esam(tf.train.sgd(0.1), { adaptive: true, gamma: 1, beta: 1 });
    assert.equal(optimizer.rho, 0.05);
    assert.equal(optimizer.eta, 0);
    assert.equal(optimizer.adaptiveScope, 'all');
    // One step on ½‖w‖² from w = (1, −2): g = w, T = |w|, ε = ρ·w²·g/‖|w|·g‖.
    const w = tf.variable(tf.tensor1d([1, -2]), true, `esam_adaptive_${counter++}`);
    tf.dispose(optimizer.step(() => tf.mul(0.5, tf.sum(tf.square(w))) as tf.Scalar, [w]));
    const w0 = [1, -2];
    const norm = Math.hypot(...w0.map((v) => Math.abs(v) * v));
    const at = w0.map((v) => v + (0.05 * v * v * v) / (norm + 1e-7));
    assertClose(
      Array.from(w.dataSync()),
      w0.map((v, j) => v - 0.1 * (at[j] as number)),
      1e-6,
    );
    optimizer.dispose();
    w.dispose();
  });
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: ESAM with data selection updates BatchNorm statistics once per step, as a plain step`, async () => {
    await useBackend(backend);
    const build = () =>
      tfl.sequential({
        layers: [
          tfl.layers.dense({
            units: 6,
            inputShape: [4],
            kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
          }),
          tfl.layers.batchNormalization(),
          tfl.layers.dense({
            units: 3,
            activation: 'softmax',
            kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
          }),
        ],
      });
    const x = tf.randomNormal([16, 4], 0, 1, 'float32', 11);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32'), 3);
    const statistics = (m: tfl.LayersModel) =>
      m.nonTrainableWeights.map((w) => Array.from((w.read() as tf.Tensor).dataSync()));
    const plain = build();
    plain.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    await plain.trainOnBatch(x, y);
    const model = build();
    const optimizer = esam(tf.train.sgd(0.1), { rho: 0.5, gamma: 0.5 });
    const perExample = (indices: tf.Tensor1D | null) =>
      tfl.metrics.categoricalCrossentropy(
        indices === null ? y : tf.gather(y, indices),
        model.apply(indices === null ? x : tf.gather(x, indices), { training: true }) as tf.Tensor,
      ) as tf.Tensor1D;
    tf.dispose(
      optimizer.stepWithDataSelection(
        perExample,
        model.trainableWeights.map((w) => w.read() as tf.Variable),
      ),
    );
    assert.ok((optimizer.lastSelection?.length ?? 0) < 16, 'a subset took the second pass');
    assert.deepEqual(statistics(model), statistics(plain));
    optimizer.dispose();
    tf.dispose([x, y]);
    model.dispose();
    plain.dispose();
  });
}
