import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../backend/select.js';
import { sam } from '../core/sam.js';
import { loadBundledFashionMnist } from '../data/bundled.js';
import { subsetDataset } from '../data/dataset.js';
import { buildModel } from '../models/index.js';
import { assertClose } from '../testing/problems.js';
import { train, type TrainerOptions } from '../trainer/trainer.js';
import { gsam } from '../variants/gsam.js';
import { sampa } from '../variants/sampa.js';
import type { ModelSpec } from './protocol.js';

await selectBackend({ prefer: 'wasm', log: () => undefined });

const SPEC: ModelSpec = {
  name: 'mlp',
  options: { inputShape: [28, 28, 1], hidden: [16], classes: 10, seed: 4 },
};
const weights = (m: tfl.LayersModel) => m.getWeights().flatMap((w) => Array.from(w.dataSync()));

async function options(): Promise<Omit<TrainerOptions, 'buildOptimizer'>> {
  const bundled = await loadBundledFashionMnist();
  return {
    data: {
      train: subsetDataset(
        bundled.train,
        Int32Array.from({ length: 120 }, (_, i) => i),
      ),
    },
    buildModel: () => buildModel('mlp', SPEC.options),
    epochs: 1,
    batchSize: 40,
    seed: 3,
    labelSmoothing: 0.1,
  };
}

test('the trainer with dataParallel: SAM matches mSharpness = replicas, SGD matches one thread', async () => {
  const common = await options();
  for (const [buildOptimizer, singleThread] of [
    [() => sam(tf.train.sgd(0.2), { rho: 0.1 }), { mSharpness: 2 }],
    [() => tf.train.momentum(0.2, 0.9), {}],
  ] as const) {
    const parallel = await train({
      ...common,
      buildOptimizer,
      dataParallel: { model: SPEC, replicas: 2 },
    });
    const reference = await train({ ...common, buildOptimizer, ...singleThread });
    assert.equal(parallel.steps, 3);
    assertClose(weights(parallel.model), weights(reference.model), 1e-5);
    const [p, r] = [parallel.history[0], reference.history[0]];
    assertClose([p?.trainLoss ?? NaN], [r?.trainLoss ?? NaN], 1e-5, 'train loss');
    for (const result of [parallel, reference]) {
      (result.model.optimizer as tf.Optimizer).dispose();
      result.model.dispose();
    }
  }
});

test('the trainer refuses dataParallel together with mSharpness, and GSAM-like methods', async () => {
  const common = await options();
  await assert.rejects(
    train({
      ...common,
      buildOptimizer: () => sam(tf.train.sgd(0.1)),
      mSharpness: 2,
      dataParallel: { model: SPEC, replicas: 2 },
    }),
    /already takes one perturbation per slice .*drop mSharpness/,
  );
  await assert.rejects(
    train({
      ...common,
      buildOptimizer: () => gsam(tf.train.sgd(0.1)),
      dataParallel: { model: SPEC, replicas: 2 },
    }),
    /GSAM is not supported.*SAM, ASAM, SAM-ON and SAMPa/,
  );
});

test('the trainer with SAMPa on two threads is its single-thread run bit for bit, resumed from a checkpoint too', async () => {
  const common = { ...(await options()), epochs: 2, labelSmoothing: 0 };
  const buildOptimizer = () => sampa(tf.train.momentum(0.1, 0.9), { rho: 0.1 });
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-sampa-workers-'));
  const done = (result: { model: tfl.LayersModel }) => {
    (result.model.optimizer as tf.Optimizer).dispose();
    result.model.dispose();
  };
  try {
    const twoThreads = { ...common, buildOptimizer, dataParallel: { model: SPEC, replicas: 2 } };
    const reference = await train({ ...common, buildOptimizer });
    const parallel = await train(twoThreads);
    assert.equal(parallel.steps, 6);
    assert.deepEqual(weights(parallel.model), weights(reference.model), 'two threads');
    // Stopped after four steps and resumed: the worker's copy starts from the checkpoint.
    let steps = 0;
    done(await train({ ...twoThreads, checkpointDir: dir, shouldStop: () => ++steps === 4 }));
    const resumed = await train({ ...twoThreads, checkpointDir: dir, resume: true });
    assert.deepEqual(weights(resumed.model), weights(reference.model), 'resumed after step 4');
    [reference, parallel, resumed].forEach(done);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
