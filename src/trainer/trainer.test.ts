import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../testing/backends.js';
import { loadBundledFashionMnist } from '../data/bundled.js';
import { subsetDataset } from '../data/dataset.js';
import { sam } from '../core/sam.js';
import { batches } from '../data/batches.js';
import { esam } from '../variants/esam.js';
import { samOn } from '../variants/sam-on.js';
import { sampa } from '../variants/sampa.js';
import { createAugmenter } from '../data/augment.js';
import { deriveSeed } from '../util/random.js';
import { cosineSchedule } from '../schedules/learning-rate.js';
import { train, type TrainerOptions } from './trainer.js';

function smallModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.flatten({ inputShape: [28, 28, 1] }),
      tfl.layers.dense({
        units: 32,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.dense({
        units: 10,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

const weights = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

test('the trainer learns, evaluates, and a run stopped mid-epoch resumes bit-identically', async () => {
  await useBackend('wasm');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 600 }, (_, i) => i),
  );
  const testSet = subsetDataset(
    bundled.test,
    Int32Array.from({ length: 200 }, (_, i) => i),
  );
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-trainer-'));
  try {
    const options: TrainerOptions = {
      data: { train: trainSet, test: testSet },
      buildModel: smallModel,
      buildOptimizer: () => sam(tf.train.momentum(0.05, 0.9), { rho: 0.05 }),
      epochs: 3,
      batchSize: 50,
      seed: 7,
      learningRate: cosineSchedule({ initial: 0.05, totalSteps: 36 }),
      labelSmoothing: 0.1,
      augment: { padding: 2, flip: true },
    };
    const full = await train(options);
    assert.equal(full.completed, true);
    assert.equal(full.steps, 36);
    assert.equal(full.history.length, 3);
    const last = full.history.at(-1)!;
    assert.ok(
      (last.testAccuracy as number) > 0.3,
      `test accuracy ${last.testAccuracy} is not well above chance (0.1)`,
    );
    assert.ok(last.trainLoss < full.history[0]!.trainLoss, 'training loss decreases');
    assert.equal(
      last.learningRate,
      cosineSchedule({ initial: 0.05, totalSteps: 36 })(35),
      'rate of the last step',
    );

    let steps = 0;
    const stopped = await train({
      ...options,
      checkpointDir: dir,
      shouldStop: () => ++steps === 17,
    });
    assert.equal(stopped.completed, false);
    assert.equal(stopped.steps, 17);
    stopped.model.dispose();
    const resumed = await train({ ...options, checkpointDir: dir, resume: true });
    assert.equal(resumed.completed, true);
    assert.deepEqual(weights(resumed.model), weights(full.model));
    assert.deepEqual(
      resumed.history.map((r) => [r.trainLoss, r.testAccuracy]),
      full.history.map((r) => [r.trainLoss, r.testAccuracy]),
    );
    for (const m of [full.model, resumed.model]) {
      (m.optimizer as tf.Optimizer).dispose();
      m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('m-sharpness in the trainer: m parts train and change the step; plain optimizers and too many parts refuse', async () => {
  await useBackend('wasm');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 128 }, (_, i) => i),
  );
  const data = {
    train: trainSet,
    validation: null,
    test: subsetDataset(bundled.test, [0, 1, 2, 3]),
  };
  const run = (
    mSharpness: number,
    buildOptimizer: () => tf.Optimizer = () => sam(tf.train.sgd(0.1), { rho: 0.05 }),
  ) =>
    train({
      data,
      buildModel: smallModel,
      buildOptimizer,
      epochs: 1,
      batchSize: 32,
      seed: 3,
      mSharpness,
    });
  const whole = await run(1);
  const split = await run(4);
  assert.equal(split.steps, 4);
  const record = split.history[0];
  assert.ok(record !== undefined && Number.isFinite(record.trainLoss) && record.trainAccuracy >= 0);
  assert.notDeepEqual(
    weights(split.model),
    weights(whole.model),
    'per-part perturbations change the step',
  );
  await assert.rejects(
    run(2, () => tf.train.sgd(0.1)),
    /mSharpness 2 needs a sharpness-aware optimizer/,
  );
  await assert.rejects(run(64), /more parts than the batch size 32/);
  for (const r of [whole, split]) {
    (r.model.optimizer as tf.Optimizer).dispose();
    r.model.dispose();
  }
});

test("ESAM's data selection in the trainer: the steps of a hand-written stepWithDataSelection loop, bit for bit", async () => {
  await useBackend('wasm');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 96 }, (_, i) => i),
  );
  const makeOptimizer = () => esam(tf.train.momentum(0.05, 0.9), { rho: 0.1, seed: 5 });
  const trained = await train({
    data: { train: trainSet, validation: null, test: null },
    buildModel: smallModel,
    buildOptimizer: makeOptimizer,
    epochs: 2,
    batchSize: 32,
    seed: 3,
  });
  assert.equal(trained.steps, 6);
  const record = trained.history[1];
  assert.ok(record !== undefined && Number.isFinite(record.trainLoss) && record.trainAccuracy > 0);

  const model = smallModel();
  const optimizer = makeOptimizer();
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let afterFirstEpoch = 0;
  for (let epoch = 0; epoch < 2; epoch++) {
    if (epoch === 1) afterFirstEpoch = tf.memory().numTensors;
    for (const batch of batches(trainSet, { batchSize: 32, shuffle: true, seed: 3, epoch })) {
      const loss = optimizer.stepWithDataSelection(
        (indices) =>
          tfl.metrics.categoricalCrossentropy(
            indices === null ? batch.ys : tf.gather(batch.ys, indices),
            model.apply(indices === null ? batch.xs : tf.gather(batch.xs, indices), {
              training: true,
            }) as tf.Tensor,
          ) as tf.Tensor1D,
        variables,
      );
      tf.dispose([loss, batch.xs, batch.ys]);
    }
  }
  assert.equal(tf.memory().numTensors, afterFirstEpoch, 'tensors over the second epoch');
  assert.deepEqual(weights(trained.model), weights(model));

  await assert.rejects(
    train({
      data: { train: trainSet, validation: null, test: null },
      buildModel: smallModel,
      buildOptimizer: makeOptimizer,
      epochs: 1,
      batchSize: 32,
      seed: 3,
      mSharpness: 2,
    }),
    /mSharpness 2 with ESAM's data selection \(gamma 0\.5\).*esam\(gamma=1\)/,
  );
  for (const m of [trained.model, model]) {
    (m.optimizer as tf.Optimizer).dispose();
    m.dispose();
  }
});

test('a window of sharpness-aware epochs: outside it every step is the base optimizer, bit for bit', async () => {
  await useBackend('wasm');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 96 }, (_, i) => i),
  );
  const run = (
    buildOptimizer: () => tf.Optimizer,
    epochs: number,
    window?: { from?: number; to?: number },
  ) =>
    train({
      data: { train: trainSet, validation: null, test: null },
      buildModel: smallModel,
      buildOptimizer,
      epochs,
      batchSize: 32,
      seed: 5,
      ...(window === undefined ? {} : { sharpnessEpochs: window }),
    });
  const base = () => tf.train.momentum(0.05, 0.9);
  const method = () => sam(tf.train.momentum(0.05, 0.9), { rho: 0.1 });
  const plain = await run(base, 2);
  const late = await run(method, 2, { from: 3 });
  assert.deepEqual(weights(late.model), weights(plain.model), 'no sharpness-aware epoch in 1..2');
  const sharp = await run(method, 1);
  const early = await run(method, 2, { to: 1 });
  assert.notDeepEqual(weights(early.model), weights(plain.model), 'epoch 1 is sharpness-aware');
  const afterOne = await run(method, 1, { to: 1 });
  assert.deepEqual(weights(afterOne.model), weights(sharp.model));
  await assert.rejects(
    run(method, 1, { from: 2, to: 1 }),
    /sharpnessEpochs.to' is 1; expected an integer >= 2/,
  );
  for (const r of [plain, late, sharp, early, afterOne]) {
    (r.model.optimizer as tf.Optimizer).dispose();
    r.model.dispose();
  }
});

test('the trainer hands the model to a method that reads its structure (SAM-ON: its normalization layers)', async () => {
  await useBackend('cpu');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 32 }, (_, i) => i),
  );
  const withNorm = () =>
    tfl.sequential({
      layers: [
        tfl.layers.flatten({ inputShape: [28, 28, 1] }),
        tfl.layers.dense({ units: 8 }),
        tfl.layers.batchNormalization({ name: 'my_norm_layer' }),
        tfl.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
  await assert.rejects(
    train({
      data: { train: trainSet, validation: null, test: null },
      buildModel: withNorm,
      buildOptimizer: () => samOn(tf.train.sgd(0.1), { variablePattern: 'dense' }),
      epochs: 1,
      batchSize: 16,
      seed: 1,
    }),
    /leaves out the normalization layer 'my_norm_layer' \(BatchNormalization\)/,
  );
});

test('SAMPa in the trainer: the previous batch each step, and a resume mid-epoch or at an epoch boundary is bit-identical', async () => {
  await useBackend('wasm');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 96 }, (_, i) => i),
  );
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-sampa-'));
  try {
    const options: TrainerOptions = {
      data: { train: trainSet, validation: null, test: null },
      buildModel: smallModel,
      buildOptimizer: () => sampa(tf.train.momentum(0.05, 0.9), { rho: 0.1 }),
      epochs: 2,
      batchSize: 32,
      seed: 4,
      augment: { padding: 2, flip: true },
    };
    const full = await train(options);
    assert.equal(full.steps, 6);
    assert.ok(Number.isFinite(full.history[1]?.trainLoss));
    // The same steps written out: stepWithPrevious on each batch and the one before it.
    const model = smallModel();
    const optimizer = sampa(tf.train.momentum(0.05, 0.9), { rho: 0.1 });
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const lossOf = (xs: tf.Tensor, ys: tf.Tensor) => () =>
      tf.mean(
        tfl.metrics.categoricalCrossentropy(ys, model.apply(xs, { training: true }) as tf.Tensor),
      ) as tf.Scalar;
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    let previous: { xs: tf.Tensor; ys: tf.Tensor } | null = null;
    for (let epoch = 0; epoch < 2; epoch++) {
      let index = 0;
      for (const batch of batches(trainSet, { batchSize: 32, shuffle: true, seed: 4, epoch })) {
        const xs = createAugmenter({
          padding: 2,
          flip: true,
          seed: deriveSeed(4, epoch * 1_000_003 + index++),
        })(batch.xs);
        tf.dispose(
          optimizer.stepWithPrevious(
            lossOf(xs, batch.ys),
            previous === null ? null : lossOf(previous.xs, previous.ys),
            variables,
          ),
        );
        if (previous !== null) tf.dispose([previous.xs, previous.ys]);
        previous = { xs, ys: tf.clone(batch.ys) };
        batch.dispose();
      }
    }
    if (previous !== null) tf.dispose([previous.xs, previous.ys]);
    assert.deepEqual(weights(full.model), weights(model), 'the hand-written loop');
    for (const stopAt of [2, 3]) {
      rmSync(dir, { recursive: true, force: true });
      let steps = 0;
      const stopped = await train({
        ...options,
        checkpointDir: dir,
        shouldStop: () => ++steps === stopAt,
      });
      (stopped.model.optimizer as tf.Optimizer).dispose();
      stopped.model.dispose();
      const resumed = await train({ ...options, checkpointDir: dir, resume: true });
      assert.deepEqual(weights(resumed.model), weights(full.model), `resumed after step ${stopAt}`);
      (resumed.model.optimizer as tf.Optimizer).dispose();
      resumed.model.dispose();
    }
    // A run of one epoch continued to two: the previous batch is the first epoch's last.
    rmSync(dir, { recursive: true, force: true });
    const first = await train({ ...options, epochs: 1, checkpointDir: dir });
    (first.model.optimizer as tf.Optimizer).dispose();
    first.model.dispose();
    const continued = await train({ ...options, checkpointDir: dir, resume: true });
    assert.deepEqual(weights(continued.model), weights(full.model), 'continued after epoch 1');
    (continued.model.optimizer as tf.Optimizer).dispose();
    continued.model.dispose();
    for (const m of [full.model, model]) {
      (m.optimizer as tf.Optimizer).dispose();
      m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('accumulate k: k micro-batches per step are the step on their union (SAM and a plain optimizer)', async () => {
  await useBackend('wasm');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 96 }, (_, i) => i),
  );
  const run = (buildOptimizer: () => tf.Optimizer, batchSize: number, accumulate?: number) =>
    train({
      data: { train: trainSet, validation: null, test: null },
      buildModel: smallModel,
      buildOptimizer,
      epochs: 2,
      batchSize,
      seed: 6,
      ...(accumulate === undefined ? {} : { accumulate }),
    });
  const close = (ours: number[][], reference: number[][], label: string) =>
    ours.forEach((tensor, i) => {
      const ref = reference[i] as number[];
      const scale = Math.max(...ref.map(Math.abs));
      const diff = Math.max(...tensor.map((v, j) => Math.abs(v - (ref[j] as number))));
      assert.ok(diff / scale <= 1e-5, `${label}: tensor ${i} differs by ${diff / scale}`);
    });
  for (const [label, build] of [
    ['SAM', () => sam(tf.train.momentum(0.05, 0.9), { rho: 0.1 })],
    ['momentum', () => tf.train.momentum(0.05, 0.9)],
  ] as const) {
    const whole = await run(build, 48);
    const parts = await run(build, 16, 3);
    assert.equal(parts.steps, whole.steps, `${label}: one step per 3 micro-batches`);
    close(weights(parts.model), weights(whole.model), label);
    for (const r of [whole, parts]) {
      (r.model.optimizer as tf.Optimizer).dispose();
      r.model.dispose();
    }
  }
  await assert.rejects(
    train({
      data: { train: trainSet, validation: null, test: null },
      buildModel: smallModel,
      buildOptimizer: () => sam(tf.train.sgd(0.1)),
      epochs: 1,
      batchSize: 16,
      seed: 6,
      accumulate: 2,
      mSharpness: 2,
    }),
    /accumulate 2 with mSharpness 2: m-sharpness already sweeps the batch in parts/,
  );
  await assert.rejects(
    train({
      data: { train: trainSet, validation: null, test: null },
      buildModel: smallModel,
      buildOptimizer: () => esam(tf.train.sgd(0.1)),
      epochs: 1,
      batchSize: 16,
      seed: 6,
      accumulate: 2,
    }),
    /accumulate 2: ESAM cannot accumulate its step over micro-batches \(its data selection ranks the whole batch\)/,
  );
});

test('onStart gets the epochs a run starts from: none when fresh, the checkpoint’s when resumed', async () => {
  await useBackend('cpu');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 60 }, (_, i) => i),
  );
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-trainer-start-'));
  try {
    const starts: number[][] = [];
    const options: TrainerOptions = {
      data: { train: trainSet },
      buildModel: smallModel,
      buildOptimizer: () => tf.train.sgd(0.05),
      epochs: 3,
      batchSize: 20,
      seed: 2,
      checkpointDir: dir,
      onStart: (history) => void starts.push(history.map((record) => record.epoch)),
    };
    let steps = 0;
    const stopped = await train({ ...options, shouldStop: () => ++steps === 7 });
    const resumed = await train({ ...options, resume: true });
    assert.deepEqual(starts, [[], [1, 2]]);
    assert.deepEqual(
      resumed.history.map((record) => record.epoch),
      [1, 2, 3],
    );
    for (const m of [stopped.model, resumed.model]) {
      (m.optimizer as tf.Optimizer).dispose();
      m.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stopAfterEpochs: the run stops with a checkpoint at that epoch’s end and resumes to the full run, bit for bit', async () => {
  await useBackend('cpu');
  const bundled = await loadBundledFashionMnist();
  const trainSet = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 60 }, (_, i) => i),
  );
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-trainer-stop-after-'));
  const models: tfl.LayersModel[] = [];
  try {
    const options: TrainerOptions = {
      data: { train: trainSet },
      buildModel: smallModel,
      buildOptimizer: () => sam(tf.train.momentum(0.05, 0.9), { rho: 0.05 }),
      epochs: 3,
      batchSize: 20,
      seed: 4,
      learningRate: cosineSchedule({ initial: 0.05, totalSteps: 9 }),
    };
    const full = await train(options);
    models.push(full.model);
    const first = await train({ ...options, checkpointDir: dir, stopAfterEpochs: 1 });
    models.push(first.model);
    assert.equal(first.completed, false);
    assert.equal(first.steps, 3, 'one epoch of 3 steps, not a step more');
    assert.equal(first.history.length, 1);
    const again = await train({ ...options, checkpointDir: dir, resume: true, stopAfterEpochs: 1 });
    models.push(again.model);
    assert.equal(again.steps, 3, 'already there: no step is taken');
    const rest = await train({ ...options, checkpointDir: dir, resume: true });
    models.push(rest.model);
    assert.equal(rest.completed, true);
    assert.deepEqual(weights(rest.model), weights(full.model));
    await assert.rejects(train({ ...options, stopAfterEpochs: 4 }), /stopAfterEpochs.*4/);
  } finally {
    for (const m of models) {
      (m.optimizer as tf.Optimizer).dispose();
      m.dispose();
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
