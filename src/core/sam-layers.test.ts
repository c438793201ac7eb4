import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { SAM, sam } from './sam.js';
import { AdamW } from '../optimizers/adamw.js';
import { saveAndReload } from '../testing/layers.js';

function denseModel(seed: number, withBatchNorm = false): tfl.LayersModel {
  const model = tfl.sequential();
  model.add(
    tfl.layers.dense({
      units: 12,
      inputShape: [6],
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  if (withBatchNorm) model.add(tfl.layers.batchNormalization({ momentum: 0.9 }));
  model.add(
    tfl.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
    }),
  );
  return model;
}

function data(count: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const x = tf.randomNormal([count, 6], 0, 1, 'float32', seed) as tf.Tensor2D;
    const labels = tf.argMax(tf.matMul(x, tf.randomNormal([6, 3], 0, 1, 'float32', seed + 1)), 1);
    return { x, y: tf.cast(tf.oneHot(labels, 3), 'float32') as tf.Tensor2D };
  });
}

function weightsOf(model: tfl.LayersModel): number[][] {
  return model.getWeights().map((w) => Array.from(w.dataSync()));
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: fit reports the loss and metrics at w, not at w + ε`, async () => {
    await useBackend(backend);
    const { x, y } = data(32, 1);
    const model = denseModel(1);
    model.compile({
      optimizer: sam(tf.train.sgd(0.5), { rho: 0.5 }),
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const [lossAtW, accuracyAtW] = (model.evaluate(x, y, { batchSize: 32 }) as tf.Scalar[]).map(
      (t) => {
        const v = t.dataSync()[0] as number;
        t.dispose();
        return v;
      },
    );
    const history = await model.fit(x, y, { epochs: 1, batchSize: 32, shuffle: false, verbose: 0 });
    assert.ok(Math.abs((history.history['loss']?.[0] as number) - (lossAtW as number)) < 1e-5);
    assert.ok(Math.abs((history.history['acc']?.[0] as number) - (accuracyAtW as number)) < 1e-6);
    (model.optimizer as SAM).dispose();
    model.dispose();
    tf.dispose([x, y]);
  });

  test(`${backend}: SAM under fit equals the custom-loop SAM step`, async () => {
    await useBackend(backend);
    const { x, y } = data(16, 2);
    const fitted = denseModel(2);
    const looped = denseModel(2);
    fitted.compile({
      optimizer: sam(tf.train.momentum(0.1, 0.9)),
      loss: 'categoricalCrossentropy',
    });
    const loopOptimizer = sam(tf.train.momentum(0.1, 0.9));
    await fitted.fit(x, y, { epochs: 3, batchSize: 16, shuffle: false, verbose: 0 });
    const variables = looped.trainableWeights.map(
      (w) => (w as unknown as { val: tf.Variable }).val,
    );
    for (let i = 0; i < 3; i++) {
      tf.dispose(
        loopOptimizer.step(
          () =>
            tf.tidy(
              () =>
                tf.mean(
                  tfl.metrics.categoricalCrossentropy(
                    y,
                    looped.apply(x, { training: true }) as tf.Tensor,
                  ),
                ) as tf.Scalar,
            ),
          variables,
        ),
      );
    }
    const a = weightsOf(fitted);
    const b = weightsOf(looped);
    a.forEach((w, i) =>
      w.forEach((v, j) =>
        assert.ok(
          Math.abs(v - (b[i]?.[j] as number)) < 1e-6,
          `weight ${i}[${j}]: ${v} vs ${b[i]?.[j]}`,
        ),
      ),
    );
    (fitted.optimizer as SAM).dispose();
    loopOptimizer.dispose();
    fitted.dispose();
    looped.dispose();
    tf.dispose([x, y]);
  });

  test(`${backend}: BatchNorm moving statistics after one SAM step equal those after one plain step`, async () => {
    await useBackend(backend);
    const { x, y } = data(16, 3);
    const plain = denseModel(3, true);
    const withSam = denseModel(3, true);
    plain.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
    withSam.compile({
      optimizer: sam(tf.train.sgd(0.1), { rho: 1 }),
      loss: 'categoricalCrossentropy',
    });
    await plain.trainOnBatch(x, y);
    await withSam.trainOnBatch(x, y);
    const stats = (m: tfl.LayersModel) =>
      m
        .getLayer(undefined as unknown as string, 1)
        .nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));
    const expected = stats(plain);
    const actual = stats(withSam);
    assert.equal(actual.length, 2, 'moving mean and variance');
    assert.deepEqual(actual, expected);
    // and the trainable weights did move differently (ρ = 1 is a real perturbation)
    assert.notDeepEqual(weightsOf(withSam)[0], weightsOf(plain)[0]);
    (withSam.optimizer as SAM).dispose();
    plain.dispose();
    withSam.dispose();
    tf.dispose([x, y]);
  });

  test(`${backend}: tensor count is flat over epochs of fit, fitDataset, trainOnBatch and a two-output model`, async () => {
    await useBackend(backend);
    const { x, y } = data(64, 4);
    // fit with metrics and BatchNorm, 8 batches × 25 epochs = 200 SAM steps
    const model = denseModel(4, true);
    const optimizer = sam(tf.train.momentum(0.05, 0.9), { nonFinite: 'skip' });
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy', 'mse'] });
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    let start = tf.memory().numTensors;
    await model.fit(x, y, { epochs: 25, batchSize: 8, verbose: 0 });
    assert.equal(tf.memory().numTensors, start, 'fit');

    // fitDataset through a minimal dataset object (tfjs-data is not a dependency)
    const batches = tf.tidy(() =>
      [0, 1, 2, 3].map((i) => ({ xs: tf.slice(x, i * 16, 16), ys: tf.slice(y, i * 16, 16) })),
    );
    batches.forEach((b) => {
      tf.keep(b.xs);
      tf.keep(b.ys);
    });
    const datasetLike = {
      size: batches.length,
      iterator: async () => {
        let i = 0;
        return {
          next: async () =>
            i < batches.length
              ? {
                  value: { xs: tf.clone(batches[i]!.xs), ys: tf.clone(batches[i++]!.ys) },
                  done: false,
                }
              : { value: null, done: true },
        };
      },
    };
    await model.fitDataset(datasetLike as never, { epochs: 1, verbose: 0 });
    start = tf.memory().numTensors;
    await model.fitDataset(datasetLike as never, { epochs: 10, verbose: 0 });
    assert.equal(tf.memory().numTensors, start, 'fitDataset');

    await model.trainOnBatch(x, y);
    start = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) await model.trainOnBatch(x, y);
    assert.equal(tf.memory().numTensors, start, 'trainOnBatch');

    const input = tfl.input({ shape: [6] });
    const hidden = tfl.layers
      .dense({ units: 8, activation: 'tanh' })
      .apply(input) as tfl.SymbolicTensor;
    const outA = tfl.layers
      .dense({ units: 3, activation: 'softmax', name: 'a' })
      .apply(hidden) as tfl.SymbolicTensor;
    const outB = tfl.layers.dense({ units: 1, name: 'b' }).apply(hidden) as tfl.SymbolicTensor;
    const twoOutputs = tfl.model({ inputs: input, outputs: [outA, outB] });
    const twoOptimizer = sam(tf.train.adam(0.01));
    twoOutputs.compile({
      optimizer: twoOptimizer,
      loss: ['categoricalCrossentropy', 'meanSquaredError'],
      metrics: ['accuracy'],
    });
    const target = tf.sum(x, 1, true);
    await twoOutputs.fit(x, [y, target], { epochs: 1, batchSize: 16, verbose: 0 });
    start = tf.memory().numTensors;
    await twoOutputs.fit(x, [y, target], { epochs: 10, batchSize: 16, verbose: 0 });
    assert.equal(tf.memory().numTensors, start, 'two-output fit');

    optimizer.dispose();
    twoOptimizer.dispose();
    tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
    model.dispose();
    twoOutputs.dispose();
    tf.dispose([x, y, target]);
  });

  for (const [label, makeBase] of [
    ['momentum', () => tf.train.momentum(0.05, 0.9)],
    ['AdamW', () => new AdamW({ learningRate: 0.01, weightDecay: 0.1 })],
    ['Adam', () => tf.train.adam(0.01)],
  ] as Array<[string, () => tf.Optimizer]>) {
    test(`${backend}: save with includeOptimizer + load resumes bit-identically (SAM over ${label})`, async () => {
      await useBackend(backend);
      const { x, y } = data(32, 5);
      const reference = denseModel(5, true);
      reference.compile({
        optimizer: sam(makeBase(), { rho: 0.1 }),
        loss: 'categoricalCrossentropy',
      });
      const interrupted = denseModel(5, true);
      interrupted.setWeights(reference.getWeights());
      interrupted.compile({
        optimizer: sam(makeBase(), { rho: 0.1 }),
        loss: 'categoricalCrossentropy',
      });
      // 20 steps before the save: tfjs Adam's pow(β₂, 21) differs from its running product there.
      await reference.fit(x, y, { epochs: 8, batchSize: 8, shuffle: false, verbose: 0 });
      await interrupted.fit(x, y, { epochs: 5, batchSize: 8, shuffle: false, verbose: 0 });

      const resumed = await saveAndReload(interrupted);
      (interrupted.optimizer as SAM).dispose();
      interrupted.dispose();
      assert.ok(
        resumed.optimizer instanceof SAM &&
          Object.getPrototypeOf(resumed.optimizer) === SAM.prototype,
        'optimizer is a SAM',
      );
      assert.equal((resumed.optimizer as SAM).iterations, 20);
      await resumed.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
      assert.deepEqual(weightsOf(resumed), weightsOf(reference));
      const state = async (o: SAM) =>
        (await o.getWeights()).map((w) => Array.from(w.tensor.dataSync()));
      assert.deepEqual(
        await state(resumed.optimizer as SAM),
        await state(reference.optimizer as SAM),
        'optimizer state',
      );
      (resumed.optimizer as SAM).dispose();
      (reference.optimizer as SAM).dispose();
      resumed.dispose();
      reference.dispose();
      tf.dispose([x, y]);
    });
  }
}
