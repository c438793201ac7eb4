import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
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

  test(`${backend}: SAMPa with nonFinite 'skip' counts the step and changes nothing`, async () => {
    await useBackend(backend);
    const { w, finite, withNaN } = problem();
    const optimizer = sampa(tf.train.sgd(0.1), { rho: 0.05, nonFinite: 'skip' });
    try {
      tf.dispose(optimizer.stepWithPrevious(finite, null, [w]));
      const weights = Array.from(w.dataSync());
      tf.dispose(optimizer.stepWithPrevious(finite, withNaN, [w]));
      assert.equal(optimizer.skippedSteps, 1);
      assert.deepEqual(Array.from(w.dataSync()), weights);
      tf.dispose(optimizer.stepWithPrevious(finite, finite, [w]));
      assert.equal(optimizer.skippedSteps, 1);
      assert.notDeepEqual(Array.from(w.dataSync()), weights);
    } finally {
      optimizer.dispose();
      w.dispose();
    }
  });
}

/** A finite loss, Σ w², whose gradient is NaN everywhere. */
function lossOnlyGradientNaN(w: tf.Variable): () => tf.Scalar {
  return () =>
    tf.tidy(() => {
      const poisoned = tf.customGrad((x: tf.Tensor) => ({
        value: tf.sum(tf.square(x)) as tf.Scalar,
        gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.fill(x.shape, NaN)),
      }));
      return poisoned(w) as tf.Scalar;
    });
}
