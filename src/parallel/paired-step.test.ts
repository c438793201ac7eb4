import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/select.js';
import { buildModel } from '../models/index.js';
import { sampa } from '../variants/sampa.js';
import { withWeightDecay } from '../optimizers/weight-decay.js';
import { createDataParallel } from './data-parallel.js';
import type { ModelSpec } from './protocol.js';

// The same wasm backend and training kernels as the worker, so both sides round alike.
await selectBackend({ prefer: 'wasm', log: () => undefined });

const MLP: ModelSpec = {
  name: 'mlp',
  options: { inputShape: [6], hidden: [8], classes: 3, seed: 11 },
};

function batch(rows: number, seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.randomUniform([rows, 6], -1, 1, 'float32', seed);
  const labels = Array.from({ length: rows }, (_, i) => (i * 5 + seed) % 3);
  return { xs, ys: tf.oneHot(tf.tensor1d(labels, 'int32'), 3) };
}

/** The mean cross-entropy of `model` on a batch, as the data-parallel step computes it. */
const meanLossOf = (model: tfl.LayersModel) => (b: { xs: tf.Tensor; ys: tf.Tensor }) => () =>
  tf.mean(
    tfl.metrics.categoricalCrossentropy(b.ys, model.apply(b.xs, { training: true }) as tf.Tensor),
  ) as tf.Scalar;

const weightsOf = (model: tfl.LayersModel) =>
  model.weights.flatMap((w) => Array.from(w.read().dataSync()));

type Event =
  { batch: { xs: tf.Tensor; ys: tf.Tensor } } | { learningRate: number } | { scaleWeights: number };

/**
 * Runs `events` through SAMPa's single-threaded step and through the two-thread step (whose worker
 * replicates the step), and checks that the weights agree bit for bit after each batch.
 */
async function checkTwoThreads(build: () => ReturnType<typeof sampa>, events: Event[]) {
  const reference = buildModel('mlp', MLP.options);
  const sequential = build();
  reference.compile({ optimizer: sequential, loss: 'categoricalCrossentropy' });
  const lossOf = meanLossOf(reference);
  const variables = reference.trainableWeights.map((w) => w.read() as tf.Variable);
  const dp = await createDataParallel({
    model: MLP,
    workers: 1,
    optimizer: build(),
    mainThreadSlice: true,
  });
  const apply = (model: tfl.LayersModel, optimizer: tf.Optimizer, event: Event) => {
    if ('learningRate' in event)
      (optimizer as ReturnType<typeof sampa>).setLearningRate(event.learningRate);
    if ('scaleWeights' in event) {
      model.setWeights(model.getWeights().map((w) => tf.mul(w, event.scaleWeights)));
    }
  };
  try {
    let previous: { xs: tf.Tensor; ys: tf.Tensor } | null = null;
    let counts: number | undefined;
    for (const [t, event] of events.entries()) {
      if (!('batch' in event)) {
        apply(reference, sequential, event);
        apply(dp.model, dp.model.optimizer, event);
        continue;
      }
      const b = event.batch;
      tf.dispose(
        sequential.stepWithPrevious(
          lossOf(b),
          previous === null ? null : lossOf(previous),
          variables,
        ),
      );
      const [loss, accuracy] = await dp.trainOnBatch(b.xs, b.ys);
      assert.ok(Number.isNaN(loss) || (accuracy >= 0 && accuracy <= 1));
      assert.deepEqual(weightsOf(dp.model), weightsOf(reference), `weights after event ${t}`);
      previous = b;
      // Nothing leaks in the worker, replica included.
      if (t === events.length - 1) assert.equal(dp.workerTensorCounts[0], counts);
      counts = dp.workerTensorCounts[0];
    }
    assert.equal(dp.model.optimizer.iterations, sequential.iterations);
    const skipped = (dp.model.optimizer as ReturnType<typeof sampa>).skippedSteps;
    assert.equal(skipped, sequential.skippedSteps, 'skipped steps');
    return skipped;
  } finally {
    await dp.dispose();
    dp.model.dispose();
    reference.dispose();
  }
}

test('SAMPa on two threads (worker: the previous batch at x̃, main: this one at y) is the single-threaded step, bit for bit', async () => {
  const batches = [1, 2, 3, 4, 5, 6].map((seed) => batch(10, seed));
  try {
    for (const build of [
      () => sampa(withWeightDecay(tf.train.momentum(0.1, 0.9), 0.01), { rho: 0.2 }),
      () => sampa(tf.train.sgd(0.1), { rho: 0.2, lambda: 0.5 }),
    ]) {
      await checkTwoThreads(
        build,
        batches.map((b) => ({ batch: b })),
      );
    }
  } finally {
    tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
  }
});

test("SAMPa's worker takes the main thread's changes between steps (weights, learning rate, a skipped step)", async () => {
  const batches = [1, 2, 3, 4].map((seed) => batch(10, seed));
  const poisoned = batch(10, 5);
  const nan = { xs: tf.mul(poisoned.xs, NaN), ys: poisoned.ys };
  const events: Event[] = [
    { batch: batches[0]! },
    { batch: batches[1]! },
    { batch: batches[2]! },
    { scaleWeights: 0.5 },
    { batch: batches[3]! },
    { learningRate: 0.03 },
    { batch: batches[0]! },
    // Skipped twice: NaN in this batch's gradient, then in the previous batch's.
    { batch: nan },
    { batch: batches[1]! },
    { batch: batches[2]! },
  ];
  try {
    const skipped = await checkTwoThreads(
      () => sampa(tf.train.momentum(0.1, 0.9), { rho: 0.2, nonFinite: 'skip' }),
      events,
    );
    assert.equal(skipped, 2);
  } finally {
    tf.dispose([...batches.flatMap((b) => [b.xs, b.ys]), poisoned.xs, poisoned.ys, nan.xs]);
  }
});

test('SAMPa runs data-parallel on two threads only, and says so', async () => {
  await assert.rejects(
    createDataParallel({
      model: MLP,
      workers: 2,
      optimizer: sampa(tf.train.sgd(0.1)),
      mainThreadSlice: true,
    }),
    /SAMPa takes its two gradients on two threads, the main one and one worker.*got 2 worker\(s\)/,
  );
});

test("a learning rate set while SAMPa's worker runs reaches both copies (the worker is sent the weights again)", async () => {
  const batches = [1, 2, 3, 4, 5].map((seed) => batch(10, seed));
  const build = () => sampa(tf.train.momentum(0.1, 0.9), { rho: 0.2 });
  const reference = buildModel('mlp', MLP.options);
  const sequential = build();
  const variables = reference.trainableWeights.map((w) => w.read() as tf.Variable);
  const lossOf = meanLossOf(reference);
  /** SAMPa's step as the two threads take it, with `meanwhile` between y and the update. */
  const stepInParts = (now: () => tf.Scalar, previous: () => tf.Scalar, meanwhile: () => void) => {
    const gradientAt = (point: tf.Tensor[] | null, fn: () => tf.Scalar) => {
      const x = variables.map((v) => tf.keep(tf.clone(v)));
      if (point !== null) variables.forEach((v, i) => v.assign(point[i] as tf.Tensor));
      const { value, grads } = tf.variableGrads(fn, variables);
      variables.forEach((v, i) => v.assign(x[i] as tf.Tensor));
      tf.dispose([...x, ...(point ?? [])]);
      return { value, grads: variables.map((v) => grads[v.name] as tf.Tensor) };
    };
    const perturbed = sequential.perturbedPoint(variables);
    assert.ok(perturbed !== 'base');
    const atX = gradientAt(perturbed, previous);
    const atY = gradientAt(sequential.extrapolatedPoint(variables), now);
    meanwhile();
    sequential.applyStepGradients(variables, atX.grads, atY.grads, atY.value);
    tf.dispose([atX.value, atY.value, ...atX.grads, ...atY.grads]);
  };
  const dp = await createDataParallel({
    model: MLP,
    workers: 1,
    optimizer: build(),
    mainThreadSlice: true,
  });
  const parallel = dp.model.optimizer as ReturnType<typeof sampa>;
  try {
    for (const [t, b] of batches.entries()) {
      const previous = batches[Math.max(t - 1, 0)] as typeof b;
      // From the third step on, the worker holds the step; the fourth changes the rate midway.
      const midway = t === 3 ? () => sequential.setLearningRate(0.03) : () => undefined;
      if (t === 0) tf.dispose(sequential.stepWithPrevious(lossOf(b), null, variables));
      else stepInParts(lossOf(b), lossOf(previous), midway);
      const running = dp.trainOnBatch(b.xs, b.ys);
      if (t === 3) parallel.setLearningRate(0.03);
      await running;
      assert.deepEqual(weightsOf(dp.model), weightsOf(reference), `weights after step ${t}`);
    }
  } finally {
    await dp.dispose();
    dp.model.dispose();
    reference.dispose();
    tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
  }
});
