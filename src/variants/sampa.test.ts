import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { withWeightDecay } from '../optimizers/weight-decay.js';
import { sampa } from './sampa.js';

/** L(w; d) = Σ d·w² / 2 over one variable: its gradient is d·w, NaN wherever d is. */
function problem() {
  const w = tf.variable(tf.tensor1d([1, -2, 0.5]), true, 'sampa_test_w');
  const lossOn = (data: number[]) => () =>
    tf.tidy(() => tf.mul(tf.sum(tf.mul(tf.tensor1d(data), tf.square(w))), 0.5) as tf.Scalar);
  return { w, lossOn, finite: lossOn([1, 2, 3]), withNaN: lossOn([1, NaN, 3]) };
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: SAMPa names the point whose gradient is not finite and leaves the step undone`, async () => {
    await useBackend(backend);
    const { w, finite, withNaN } = problem();
    const optimizer = sampa(tf.train.momentum(0.1, 0.9), { rho: 0.05 });
    try {
      tf.dispose(optimizer.stepWithPrevious(finite, null, [w]));
      const weights = Array.from(w.dataSync());
      const stored = await optimizer.getWeights();
      const tensors = tf.memory().numTensors;
      // The previous batch's gradient at x̃ (gx) holds the NaN; the loss at y is finite.
      assert.throws(
        () => optimizer.stepWithPrevious(finite, withNaN, [w]),
        /non-finite values at step 1: the gradient of 'sampa_test_w' at the perturbed point \(previous batch\) has NaN or Inf values/,
      );
      // This batch's gradient at y (gy') holds it.
      assert.throws(
        () => optimizer.stepWithPrevious(lossOnlyGradientNaN(w), finite, [w]),
        /the gradient of 'sampa_test_w' at the extrapolated point has NaN or Inf values/,
      );
      assert.throws(
        () => optimizer.stepWithPrevious(withNaN, finite, [w]),
        /the loss at the extrapolated point is NaN/,
      );
      assert.equal(tf.memory().numTensors, tensors, 'tensors left by the failed steps');
      assert.deepEqual(Array.from(w.dataSync()), weights);
      const after = await optimizer.getWeights();
      assert.deepEqual(
        after.map((t) => Array.from(t.tensor.dataSync())),
        stored.map((t) => Array.from(t.tensor.dataSync())),
      );
    } finally {
      optimizer.dispose();
      w.dispose();
    }
  });

  for (const [label, makeBase] of [
    ['sgd', () => tf.train.sgd(0.1)],
    // A WeightDecay of 0 inside another is a base SAMPa steps through, not in one pass.
    ['a base it does not fuse', () => withWeightDecay(withWeightDecay(tf.train.sgd(0.1), 0), 0)],
  ] as const)
    test(`${backend}: SAMPa over ${label} with nonFinite 'skip' counts the step and changes nothing`, async () => {
      await useBackend(backend);
      const { w, finite, withNaN } = problem();
      const optimizer = sampa(makeBase(), { rho: 0.05, nonFinite: 'skip' });
      try {
        tf.dispose(optimizer.stepWithPrevious(finite, null, [w]));
        const weights = Array.from(w.dataSync());
        tf.dispose(optimizer.stepWithPrevious(finite, withNaN, [w]));
        assert.equal(optimizer.skippedSteps, 1);
        assert.deepEqual(Array.from(w.dataSync()), weights);
        // NaN in this batch's gradient, which the step would have stored as gy.
        tf.dispose(optimizer.stepWithPrevious(lossOnlyGradientNaN(w), finite, [w]));
        assert.equal(optimizer.skippedSteps, 2);
        assert.deepEqual(Array.from(w.dataSync()), weights);
        tf.dispose(optimizer.stepWithPrevious(finite, finite, [w]));
        assert.equal(optimizer.skippedSteps, 2, 'a finite step after the skipped ones is taken');
        assert.notDeepEqual(Array.from(w.dataSync()), weights);
        assert.ok(w.dataSync().every(Number.isFinite));
      } finally {
        optimizer.dispose();
        w.dispose();
      }
    });
}

const bitsOf = (t: tf.Tensor) =>
  Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

for (const backend of TEST_BACKENDS) {
  for (const [label, makeInner, decay] of [
    ['sgd', () => tf.train.sgd(0.1), 0],
    ['momentum', () => tf.train.momentum(0.1, 0.9), 0],
    ['momentum with weight decay', () => tf.train.momentum(0.1, 0.9), 0.01],
  ] as const) {
    test(`${backend}: SAMPa's one-pass step over ${label} is the base's own step, bit for bit`, async () => {
      await useBackend(backend);
      const [fusedInner, steppedInner] = [makeInner(), makeInner()];
      // SAMPa steps in one pass over the base alone or in one WeightDecay; a WeightDecay of 0
      // inside the outer one is an identity that it does not fuse through.
      const bases = [
        decay === 0 ? fusedInner : withWeightDecay(fusedInner, decay),
        withWeightDecay(withWeightDecay(steppedInner, 0), decay),
      ];
      const runs = bases.map((base, r) => ({
        w: tf.variable(tf.tensor1d([1, -2, 0.5, 3, -0.25]), true, `sampa_${backend}_${label}_${r}`),
        optimizer: sampa(base, { rho: 0.05, lambda: 0.3 }),
      }));
      try {
        for (const { w, optimizer } of runs) {
          const lossOn = (t: number) => () =>
            tf.tidy(
              () =>
                tf.sum(tf.mul(tf.tensor1d([1 + t, 2, 0.5 * t, 3, 1]), tf.square(w))) as tf.Scalar,
            );
          for (let t = 0; t < 5; t++) {
            tf.dispose(optimizer.stepWithPrevious(lossOn(t), t === 0 ? null : lossOn(t - 1), [w]));
          }
        }
        const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
        assert.deepEqual(bitsOf(a.w), bitsOf(b.w), 'weights');
        const buffersOf = (inner: tf.Optimizer) =>
          (
            (inner as unknown as { accumulations?: Array<{ variable: tf.Variable }> })
              .accumulations ?? []
          ).map((x) => bitsOf(x.variable));
        assert.deepEqual(buffersOf(fusedInner), buffersOf(steppedInner), 'momentum buffers');
        assert.equal(fusedInner.iterations, steppedInner.iterations, "the base's step count");
        assert.equal(bases[0]!.iterations, bases[1]!.iterations, "the outer base's step count");
        assert.equal(a.optimizer.iterations, b.optimizer.iterations, "SAMPa's step count");
        assert.equal(a.optimizer.iterations, 5);
      } finally {
        for (const { w, optimizer } of runs) {
          optimizer.dispose();
          w.dispose();
        }
      }
    });
  }
}

test('SAMPa states its step as data for a replica once it has gy and every momentum buffer', async () => {
  await useBackend('wasm');
  const { w, finite } = problem();
  const optimizer = sampa(withWeightDecay(tf.train.momentum(0.1, 0.9), 0.01), {
    rho: 0.05,
    lambda: 0.3,
  });
  const unfused = sampa(withWeightDecay(withWeightDecay(tf.train.sgd(0.1), 0), 0));
  try {
    assert.equal(optimizer.replicaStep([w]), null, 'before the first step (no gy yet)');
    tf.dispose(optimizer.stepWithPrevious(finite, null, [w]));
    const replica = optimizer.replicaStep([w]);
    assert.ok(replica !== null);
    assert.deepEqual(
      { ...replica, stored: replica.stored.length, accumulations: replica.accumulations?.length },
      {
        rho: 0.05,
        epsilon: 1e-12,
        stored: 1,
        accumulations: 1,
        step: {
          a: 0.7,
          b: 0.3,
          weightDecay: 0.01,
          momentum: 0.9,
          c: Math.fround(-0.1),
        },
      },
    );
    optimizer.rho = 0;
    assert.equal(optimizer.replicaStep([w]), null, 'ρ = 0 is a plain step');
    tf.dispose(unfused.stepWithPrevious(finite, null, [w]));
    assert.equal(unfused.replicaStep([w]), null, 'a base it does not step in one pass');
  } finally {
    optimizer.dispose();
    unfused.dispose();
    w.dispose();
  }
});

/** A finite loss, Σ w², whose gradient is NaN everywhere. */
function lossOnlyGradientNaN(w: tf.Variable): () => tf.Scalar {
  return () =>
    tf.tidy(() => {
      const poisoned = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
        const x = args[0] as tf.Tensor;
        return {
          value: tf.sum(tf.square(x)),
          gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.fill(x.shape, NaN)),
        };
      });
      return poisoned(w) as tf.Scalar;
    });
}
