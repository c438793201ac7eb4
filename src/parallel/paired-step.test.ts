import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/select.js';
import { buildModel } from '../models/index.js';
import { assertClose } from '../testing/problems.js';
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

const weightsOf = (model: tfl.LayersModel) =>
  model.weights.flatMap((w) => Array.from(w.read().dataSync()));

test('SAMPa on two threads (worker: the previous batch at x̃, main: this one at y) is the single-threaded step', async () => {
  const build = () => sampa(withWeightDecay(tf.train.momentum(0.1, 0.9), 0.01), { rho: 0.2 });
  const batches = [batch(10, 1), batch(10, 2), batch(10, 3), batch(10, 4)];
  const reference = buildModel('mlp', MLP.options);
  const sequential = build();
  reference.compile({ optimizer: sequential, loss: 'categoricalCrossentropy' });
  const lossOf = (b: { xs: tf.Tensor; ys: tf.Tensor }) => () =>
    tf.mean(
      tfl.metrics.categoricalCrossentropy(
        b.ys,
        reference.apply(b.xs, { training: true }) as tf.Tensor,
      ),
    ) as tf.Scalar;
  const variables = reference.trainableWeights.map((w) => w.read() as tf.Variable);
  batches.forEach((b, t) =>
    tf.dispose(
      sequential.stepWithPrevious(lossOf(b), t === 0 ? null : lossOf(batches[t - 1]!), variables),
    ),
  );
  const dp = await createDataParallel({
    model: MLP,
    workers: 1,
    optimizer: build(),
    mainThreadSlice: true,
  });
  try {
    for (const b of batches) {
      const [loss, accuracy] = await dp.trainOnBatch(b.xs, b.ys);
      assert.ok(Number.isFinite(loss) && accuracy >= 0 && accuracy <= 1);
    }
    assertClose(weightsOf(dp.model), weightsOf(reference), 1e-5, 'weights after 4 steps');
    // Nothing leaks in the worker either.
    const counts = dp.workerTensorCounts[0];
    await dp.trainOnBatch(batches[0]!.xs, batches[0]!.ys);
    assert.equal(dp.workerTensorCounts[0], counts);
  } finally {
    await dp.dispose();
    dp.model.dispose();
    reference.dispose();
    tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
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
