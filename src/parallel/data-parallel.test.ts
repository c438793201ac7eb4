import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/select.js';
import { asam, sam, type SAM } from '../core/sam.js';
import { buildModel } from '../models/index.js';
import { useBackend } from '../testing/backends.js';
import { assertClose } from '../testing/problems.js';
import { gsam } from '../variants/gsam.js';
import { samOn } from '../variants/sam-on.js';
import { createDataParallel } from './data-parallel.js';
import type { ModelSpec } from './protocol.js';

// The same wasm backend and training kernels as the workers, so both sides round alike.
await selectBackend({ prefer: 'wasm', log: () => undefined });

const MLP: ModelSpec = {
  name: 'mlp',
  options: { inputShape: [6], hidden: [8], classes: 3, seed: 7 },
};

function batch(rows: number, seed: number): { xs: tf.Tensor; ys: tf.Tensor } {
  const xs = tf.randomUniform([rows, 6], -1, 1, 'float32', seed);
  const labels = Array.from({ length: rows }, (_, i) => (i * 7 + seed) % 3);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
  return { xs, ys };
}

function weightsOf(model: tfl.LayersModel): number[] {
  return model.weights.flatMap((w) => Array.from(w.read().dataSync()));
}

/** The trainer's m-sharpness step (src/trainer/trainer.ts mSharpnessStep), written out independently. */
function referenceMSharpness(
  model: tfl.LayersModel,
  optimizer: SAM,
  xs: tf.Tensor,
  ys: tf.Tensor,
  parts: number,
): void {
  const rows = xs.shape[0] as number;
  const bounds = Array.from({ length: parts + 1 }, (_, j) => Math.round((j * rows) / parts));
  const pieces = bounds.slice(0, -1).map((start, j) => ({
    xs: tf.slice(xs, start, (bounds[j + 1] as number) - start),
    ys: tf.slice(ys, start, (bounds[j + 1] as number) - start),
  }));
  const lossFns = pieces.map((piece) => () => {
    const output = model.apply(piece.xs, { training: true }) as tf.Tensor;
    return tf.mean(tfl.metrics.categoricalCrossentropy(piece.ys, output)) as tf.Scalar;
  });
  tf.dispose(
    optimizer.stepMSharpness(
      lossFns,
      model.trainableWeights.map((w) => w.read() as tf.Variable),
    ),
  );
  tf.dispose(pieces.flatMap((p) => [p.xs, p.ys]));
}

test('plain SGD and Adam over slices give the weights of single-thread trainOnBatch on the full batch', async () => {
  for (const config of [
    // 11 rows in 2 slices (6 + 5): the slice-size weighting makes the mean the full-batch gradient.
    { optimizer: () => tf.train.sgd(0.5), workers: 1, mainThreadSlice: true, rows: 11 },
    { optimizer: () => tf.train.adam(0.05), workers: 2, mainThreadSlice: false, rows: 12 },
  ]) {
    const reference = buildModel('mlp', MLP.options);
    reference.compile({
      optimizer: config.optimizer(),
      loss: 'categoricalCrossentropy',
      metrics: ['accuracy'],
    });
    const dp = await createDataParallel({
      model: MLP,
      workers: config.workers,
      mainThreadSlice: config.mainThreadSlice,
      optimizer: config.optimizer(),
    });
    assert.equal(dp.slices, 2);
    const initial = weightsOf(dp.model);
    assertClose(weightsOf(dp.model), weightsOf(reference), 0, 'initial weights');
    for (let step = 0; step < 4; step++) {
      const { xs, ys } = batch(config.rows, step + 1);
      const [loss, accuracy] = await dp.trainOnBatch(xs, ys);
      const [refLoss, refAccuracy] = (await reference.trainOnBatch(xs, ys)) as number[];
      assertClose(
        [loss, accuracy],
        [refLoss as number, refAccuracy as number],
        1e-5,
        `step ${step}`,
      );
      assertClose(weightsOf(dp.model), weightsOf(reference), 1e-5, `weights after step ${step}`);
      tf.dispose([xs, ys]);
    }
    const moved = weightsOf(dp.model).some((w, i) => Math.abs(w - (initial[i] as number)) > 1e-3);
    assert.ok(moved, 'the steps changed the weights');
    await dp.dispose();
    assert.equal(dp.runningWorkers, 0, 'dispose terminated every worker thread');
    await assert.rejects(dp.trainOnBatch(tf.zeros([2, 6]), tf.zeros([2, 3])), /was disposed/);
    dp.model.dispose();
    reference.dispose();
  }
});

test('SAM and ASAM with m slices match SAM.stepMSharpness on the same m parts; no tensors leak', async () => {
  for (const config of [
    { optimizer: () => sam(tf.train.sgd(0.5), { rho: 0.2 }), workers: 1, mainThreadSlice: true },
    {
      optimizer: () => asam(tf.train.momentum(0.2, 0.9), { rho: 0.5 }),
      workers: 2,
      mainThreadSlice: true,
    },
  ]) {
    const reference = buildModel('mlp', MLP.options);
    const referenceOptimizer = config.optimizer();
    const dp = await createDataParallel({
      model: MLP,
      workers: config.workers,
      mainThreadSlice: config.mainThreadSlice,
      optimizer: config.optimizer(),
    });
    assert.equal(dp.slices, config.workers + 1);
    for (let step = 0; step < 3; step++) {
      const { xs, ys } = batch(12, step + 1);
      await dp.trainOnBatch(xs, ys);
      referenceMSharpness(reference, referenceOptimizer, xs, ys, dp.slices);
      assertClose(weightsOf(dp.model), weightsOf(reference), 1e-5, `weights after step ${step}`);
      tf.dispose([xs, ys]);
    }
    // m-sharpness is not plain SAM on the full batch: the check above can tell them apart.
    const fullBatch = buildModel('mlp', MLP.options);
    const fullBatchOptimizer = config.optimizer();
    for (let step = 0; step < 3; step++) {
      const { xs, ys } = batch(12, step + 1);
      referenceMSharpness(fullBatch, fullBatchOptimizer, xs, ys, 1);
      tf.dispose([xs, ys]);
    }
    const gap = Math.max(
      ...weightsOf(fullBatch).map((w, i) => Math.abs(w - (weightsOf(reference)[i] as number))),
    );
    assert.ok(gap > 1e-4, `m = ${dp.slices} differs from m = 1 (gap ${gap})`);

    const { xs, ys } = batch(12, 99);
    await dp.trainOnBatch(xs, ys);
    const mainCount = tf.memory().numTensors;
    const workerCounts = dp.workerTensorCounts;
    for (let step = 0; step < 8; step++) await dp.trainOnBatch(xs, ys);
    assert.equal(tf.memory().numTensors, mainCount, 'tensors in the main thread');
    assert.deepEqual(dp.workerTensorCounts, workerCounts, 'tensors in each worker');
    assert.ok(workerCounts.every((n) => n > 0));
    tf.dispose([xs, ys]);
    await dp.dispose();
    referenceOptimizer.dispose();
    fullBatchOptimizer.dispose();
    [dp.model, reference, fullBatch].forEach((m) => m.dispose());
  }
});

const TINY_WRN: ModelSpec = {
  name: 'wrn',
  options: { depth: 10, widenFactor: 1, inputShape: [6, 6, 1], classes: 3, seed: 3 },
};

test('a BatchNorm model under SAM-ON: averaged moving statistics, weights as stepMSharpness', async () => {
  const spec = TINY_WRN;
  const dp = await createDataParallel({
    model: spec,
    workers: 1,
    mainThreadSlice: true,
    optimizer: samOn(tf.train.sgd(0.1), { rho: 0.5 }),
  });
  const initialState = dp.model.nonTrainableWeights.map((w) => tf.clone(w.read()));
  const xs = tf.randomUniform([8, 6, 6, 1], 0, 1, 'float32', 5);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);

  // Each slice's update from the starting state, on a replica at the same weights.
  const replica = buildModel('wrn', spec.options);
  replica.setWeights(dp.model.getWeights());
  const sliceStates = [0, 4].map((start) => {
    replica.nonTrainableWeights.forEach((w, i) => w.write(initialState[i] as tf.Tensor));
    tf.tidy(() => {
      replica.apply(tf.slice(xs, start, 4), { training: true });
    });
    return replica.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));
  });
  const expected = (sliceStates[0] as number[][]).map((values, i) =>
    values.map((v, k) => (v + ((sliceStates[1] as number[][])[i] as number[])[k]!) / 2),
  );

  // Training-mode BatchNorm normalizes with batch statistics, so the trainable weights do not
  // depend on the moving statistics, which stepMSharpness updates once per part in turn.
  const mSharpness = buildModel('wrn', spec.options);
  referenceMSharpness(mSharpness, samOn(tf.train.sgd(0.1), { rho: 0.5 }), xs, ys, 2);

  await dp.trainOnBatch(xs, ys);
  const trainable = (m: tfl.LayersModel) =>
    m.trainableWeights.flatMap((w) => Array.from(w.read().dataSync()));
  assertClose(trainable(dp.model), trainable(mSharpness), 1e-5, 'trainable weights');
  assert.ok(
    trainable(dp.model).some((w, i) => Math.abs(w - (trainable(replica)[i] as number)) > 1e-4),
    'the step moved the weights',
  );
  const actual = dp.model.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));
  assert.equal(actual.length, 14, 'moving mean and variance of the 7 BatchNorm layers');
  actual.forEach((values, i) => {
    assert.ok(values.every(Number.isFinite), `state ${i} is finite`);
    assertClose(values, expected[i] as number[], 1e-5, dp.model.nonTrainableWeights[i]?.name);
  });
  // Not simply either slice's update: the two slices' statistics differ.
  const spread = (sliceStates[0] as number[][])
    .flat()
    .map((v, k) => Math.abs(v - (sliceStates[1] as number[][]).flat()[k]!));
  assert.ok(Math.max(...spread) > 1e-4);

  tf.dispose([xs, ys, ...initialState]);
  await dp.dispose();
  dp.model.dispose();
  replica.dispose();
  mSharpness.dispose();
});

test('refusals: worker counts, zoo specs, GSAM', async () => {
  const sgd = tf.train.sgd(0.1);
  for (const workers of [0, -1, 1.5, Number.NaN, 65]) {
    await assert.rejects(
      createDataParallel({ model: MLP, workers, optimizer: sgd }),
      /'workers' is .*; expected an integer from 1 to 64/,
    );
  }
  await assert.rejects(
    createDataParallel({
      model: { name: 'perceptron' } as unknown as ModelSpec,
      workers: 1,
      optimizer: sgd,
    }),
    /unknown model 'perceptron'; expected one of mlp, cnn/,
  );
  await assert.rejects(
    createDataParallel({
      model: { name: 'mlp', options: { hidden: [0] } },
      workers: 1,
      optimizer: sgd,
    }),
    /mlp: option 'hidden\[0\]' is 0/,
  );
  await assert.rejects(
    createDataParallel({ model: MLP, workers: 1, optimizer: gsam(tf.train.sgd(0.1)) }),
    /GSAM is not supported.*plain tfjs optimizers.*SAM, ASAM.*SAM-ON.*single-threaded/s,
  );
});

test('on a backend other than the workers’, the main thread computes no slice by default', async () => {
  await useBackend('cpu');
  try {
    const dp = await createDataParallel({ model: MLP, workers: 1, optimizer: tf.train.sgd(0.1) });
    assert.equal(dp.mainThreadSlice, false);
    assert.equal(dp.slices, 1);
    const { xs, ys } = batch(4, 1);
    const [loss] = await dp.trainOnBatch(xs, ys);
    assert.ok(Number.isFinite(loss));
    tf.dispose([xs, ys]);
    await dp.dispose();
    dp.model.dispose();
  } finally {
    await selectBackend({ prefer: 'wasm', log: () => undefined });
  }
});

test('a crashing worker rejects the step with its message and stack and stops the others', async () => {
  // Replica 1 starts like a real one and throws in its first step; replica 0 is the real worker.
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-dp-'));
  const fixture = join(dir, 'crashing-worker.mts');
  const realWorker = new URL('./worker.ts', import.meta.url).href;
  writeFileSync(
    fixture,
    [
      "import { parentPort, workerData } from 'node:worker_threads';",
      'if (workerData.index === 1) {',
      '  parentPort?.on("message", () => {',
      '    throw new Error("replica exploded in its step");',
      '  });',
      '  parentPort?.postMessage({ type: "ready", numTensors: 0 });',
      '} else {',
      `  await import(${JSON.stringify(realWorker)});`,
      '}',
    ].join('\n'),
  );
  const dp = await createDataParallel({
    model: TINY_WRN,
    workers: 2,
    mainThreadSlice: true,
    optimizer: tf.train.sgd(0.1),
    workerUrl: pathToFileURL(fixture),
  });
  const before = weightsOf(dp.model);
  const xs = tf.randomUniform([9, 6, 6, 1], 0, 1, 'float32', 5);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2], 'int32'), 3);
  await assert.rejects(
    dp.trainOnBatch(xs, ys),
    (error: Error) =>
      /worker 1 failed: replica exploded in its step/.test(error.message) &&
      error.message.includes('crashing-worker.mts') &&
      /createDataParallel\(\)/.test(error.message),
  );
  for (let i = 0; i < 100 && dp.runningWorkers > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(dp.runningWorkers, 0, 'the healthy worker was terminated too');
  await assert.rejects(dp.trainOnBatch(xs, ys), /worker 1 failed/);
  // Neither the weights nor the BatchNorm statistics the main thread's own slice had updated.
  assert.deepEqual(weightsOf(dp.model), before, 'no partial update');
  tf.dispose([xs, ys]);
  await dp.dispose();
  dp.model.dispose();
});

test('a script that disposes the trainer exits on its own', () => {
  const here = (path: string) => JSON.stringify(new URL(path, import.meta.url).href);
  const script = [
    `import * as tf from ${JSON.stringify(import.meta.resolve('@tensorflow/tfjs-core'))};`,
    `import { selectBackend } from ${here('../backend/select.ts')};`,
    `import { createDataParallel } from ${here('./data-parallel.ts')};`,
    "await selectBackend({ prefer: 'wasm', log: () => undefined });",
    `const dp = await createDataParallel({ model: ${JSON.stringify(MLP)}, workers: 2, optimizer: tf.train.sgd(0.1) });`,
    'const [loss] = await dp.trainOnBatch(tf.ones([4, 6]), tf.oneHot(tf.tensor1d([0, 1, 2, 0], "int32"), 3));',
    'await dp.dispose();',
    'console.log(`loss ${loss.toFixed(3)} slices ${dp.slices} running ${dp.runningWorkers}`);',
  ].join('\n');
  const file = join(mkdtempSync(join(tmpdir(), 'tfjs-sam-dp-')), 'dispose-then-exit.mts');
  writeFileSync(file, script);
  const child = spawnSync(process.execPath, ['--import', 'tsx', file], {
    encoding: 'utf8',
    timeout: 40_000,
  });
  assert.equal(child.signal, null, `timed out: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  // 2 workers + the main thread's slice (the default when the main thread trains on wasm too).
  assert.match(child.stdout, /loss \d+\.\d{3} slices 3 running 0/);
});
