import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel, type ModelName, type ModelOptions } from '../models/index.js';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { useBackend, type TestBackend } from '../testing/backends.js';

const STEPS = 3;
const BATCH = 4;
const TOLERANCE = 1e-4;

interface Case {
  name: ModelName;
  options: ModelOptions;
  input: (seed: number) => tf.Tensor;
  classes: number;
}

const integers = (shape: number[], max: number, seed: number) =>
  tf.tidy(() => tf.floor(tf.randomUniform(shape, 0, max, 'float32', seed)));

const CASES: Case[] = [
  {
    name: 'mlp',
    options: { inputShape: [20], hidden: [16, 16], classes: 5, seed: 1 },
    classes: 5,
    input: (s) => tf.randomUniform([BATCH, 20], -1, 1, 'float32', s),
  },
  {
    name: 'cnn',
    options: { inputShape: [12, 12, 1], classes: 5, seed: 1 },
    classes: 5,
    input: (s) => tf.randomUniform([BATCH, 12, 12, 1], 0, 1, 'float32', s),
  },
  {
    name: 'resnet20',
    options: { inputShape: [8, 8, 3], classes: 5, seed: 1 },
    classes: 5,
    input: (s) => tf.randomUniform([BATCH, 8, 8, 3], 0, 1, 'float32', s),
  },
  {
    name: 'wrn',
    options: { depth: 10, widenFactor: 1, inputShape: [8, 8, 3], classes: 5, dropout: 0, seed: 1 },
    classes: 5,
    input: (s) => tf.randomUniform([BATCH, 8, 8, 3], 0, 1, 'float32', s),
  },
  {
    name: 'lstm',
    options: { vocabSize: 30, seqLength: 6, embedDim: 8, units: 8, classes: 5, seed: 1 },
    classes: 5,
    input: (s) => integers([BATCH, 6], 30, s),
  },
  {
    name: 'transformer',
    options: {
      vocabSize: 30,
      seqLength: 8,
      dModel: 16,
      heads: 2,
      blocks: 1,
      ffDim: 32,
      classes: 5,
      seed: 1,
    },
    classes: 5,
    input: (s) => integers([BATCH, 8], 30, s),
  },
];

async function trainLosses(
  backend: TestBackend,
  c: Case,
  weights: Float32Array[],
): Promise<number[]> {
  await useBackend(backend);
  const model: tfl.LayersModel = buildModel(c.name, c.options);
  try {
    model.setWeights(model.getWeights().map((w, i) => tf.tensor(weights[i]!, w.shape, w.dtype)));
    model.compile({ optimizer: tf.train.sgd(0.05), loss: 'sparseCategoricalCrossentropy' });
    const x = c.input(11);
    const y = tf.tensor1d(Array.from({ length: BATCH }, (_, i) => i % c.classes));
    const history = await model.fit(x, y, {
      epochs: STEPS,
      batchSize: BATCH,
      shuffle: false,
      verbose: 0,
    });
    tf.dispose([x, y]);
    return history.history['loss'] as number[];
  } finally {
    model.dispose();
  }
}

describe('models train on wasm (training kernels) exactly like on cpu', () => {
  let undo: () => void = () => {};
  before(async () => {
    await useBackend('wasm');
    undo = registerWasmTrainingKernels();
  });
  after(() => undo());

  for (const c of CASES) {
    test(`${c.name}: ${STEPS} fit steps`, async () => {
      await useBackend('cpu');
      const reference = buildModel(c.name, c.options);
      const weights = reference.getWeights().map((w) => w.dataSync() as Float32Array);
      reference.dispose();
      const cpu = await trainLosses('cpu', c, weights);
      const wasm = await trainLosses('wasm', c, weights);
      assert.equal(wasm.length, STEPS);
      for (let i = 0; i < STEPS; i++) {
        const rel = Math.abs(wasm[i]! - cpu[i]!) / (Math.abs(cpu[i]!) + 1e-8);
        assert.ok(
          rel <= TOLERANCE,
          `${c.name} step ${i}: wasm ${wasm[i]} vs cpu ${cpu[i]} (relative ${rel})`,
        );
      }
    });
  }
});
