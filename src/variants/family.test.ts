/**
 * Properties every sharpness-aware optimizer of the family must have under `model.fit` with a
 * BatchNormalization model: BatchNorm statistics after a step equal those of one plain step,
 * `tf.memory().numTensors` flat over 200 steps, bit-identical resume after save/load with the
 * optimizer, and the configuration surviving a save/load (tfjs-layers rewrites it) — on cpu, on
 * stock wasm, and on wasm with the training kernels (whose fused SIMD passes the math then takes);
 * and the fused passes giving the trajectory of the composed ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { sam } from '../core/sam.js';
import { AdamW } from '../optimizers/adamw.js';
import { saveAndReload } from '../testing/layers.js';
import { fsam } from './fsam.js';
import { gsam } from './gsam.js';
import { looksam } from './looksam.js';
import { samOn } from './sam-on.js';
import { wsam } from './wsam.js';
import { esam } from './esam.js';
import { msam } from './msam.js';
import { xsam } from './xsam.js';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.js';

const FAMILY: Array<[string, () => tf.Optimizer]> = [
  [
    'SAM (3 ascent steps, ASAM)',
    () => sam(tf.train.momentum(0.05, 0.9), { ascentSteps: 3, adaptive: true }),
  ],
  [
    'GSAM',
    () => gsam(tf.train.momentum(0.05, 0.9), { rho: 0.1, rhoMin: 0.01, lrMin: 0, lrMax: 0.05 }),
  ],
  ['WSAM decoupled', () => wsam(new AdamW({ learningRate: 0.01 }))],
  ['WSAM coupled', () => wsam(tf.train.momentum(0.05, 0.9), { decouple: false })],
  ['LookSAM', () => looksam(tf.train.adam(0.01), { k: 3 })],
  ['F-SAM', () => fsam(tf.train.momentum(0.05, 0.9))],
  ['SAM-ON', () => samOn(tf.train.momentum(0.05, 0.9), { rho: 0.5 })],
  ['ESAM (SWP, γ = 1)', () => esam(tf.train.momentum(0.05, 0.9), { beta: 0.5, gamma: 1, seed: 4 })],
  ['MSAM (momentum)', () => msam(tf.train.momentum(0.05, 0.9), { weightDecay: 1e-3 })],
  ['MSAM (AdamW)', () => msam(new AdamW({ learningRate: 0.01 }))],
  [
    'XSAM (dynamic α, 2 ascent steps)',
    () => xsam(tf.train.momentum(0.05, 0.9), { ascentSteps: 2, alphaEvery: 5 }),
  ],
];

function model(seed: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 10,
        inputShape: [5],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.batchNormalization({ momentum: 0.8 }),
      tfl.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

function data(): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    const x = tf.randomNormal([32, 5], 0, 1, 'float32', 11);
    const labels = tf.argMax(tf.matMul(x, tf.randomNormal([5, 3], 0, 1, 'float32', 12)), 1);
    return { x, y: tf.cast(tf.oneHot(labels, 3), 'float32') };
  });
}

const values = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
const movingStatistics = (m: tfl.LayersModel) =>
  m.layers[1]!.nonTrainableWeights.map((w) => Array.from(w.read().dataSync()));

const CONFIGURATIONS = [
  ...TEST_BACKENDS.map((backend) => ({ label: backend, backend, fused: false })),
  { label: 'wasm + training kernels', backend: 'wasm' as const, fused: true },
];

/** Runs `body` on `backend`, with the wasm training (and fused) kernels registered if `fused`. */
async function on<T>(
  backend: (typeof TEST_BACKENDS)[number],
  fused: boolean,
  body: () => Promise<T>,
): Promise<T> {
  await useBackend(backend);
  const undo = fused ? registerWasmTrainingKernels() : () => undefined;
  try {
    return await body();
  } finally {
    undo();
  }
}

for (const { label, backend, fused } of CONFIGURATIONS) {
  for (const [name, make] of FAMILY) {
    test(`${label}: ${name} under fit — BatchNorm frozen, no leaks, bit-identical resume`, () =>
      on(backend, fused, async () => {
        const { x, y } = data();
        const compileWith = (m: tfl.LayersModel, optimizer: tf.Optimizer) =>
          m.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

        const plain = model(1);
        const variant = model(1);
        compileWith(plain, tf.train.sgd(0.05));
        compileWith(variant, make());
        await plain.trainOnBatch(x, y);
        await variant.trainOnBatch(x, y);
        assert.deepEqual(
          movingStatistics(variant),
          movingStatistics(plain),
          'BatchNorm statistics after one step',
        );

        await variant.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
        const start = tf.memory().numTensors;
        await variant.fit(x, y, { epochs: 50, batchSize: 8, verbose: 0 });
        assert.equal(tf.memory().numTensors, start, 'tensors over 200 steps');

        const reference = model(2);
        const interrupted = model(2);
        compileWith(reference, make());
        compileWith(interrupted, make());
        await reference.fit(x, y, { epochs: 6, batchSize: 8, shuffle: false, verbose: 0 });
        await interrupted.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
        const resumed = await saveAndReload(interrupted);
        const restoredOptimizer = resumed.optimizer as tf.Optimizer;
        assert.equal(
          restoredOptimizer.getClassName(),
          (reference.optimizer as tf.Optimizer).getClassName(),
        );
        assert.deepEqual(
          restoredOptimizer.getConfig(),
          (reference.optimizer as tf.Optimizer).getConfig(),
          'config after load',
        );
        await resumed.fit(x, y, { epochs: 3, batchSize: 8, shuffle: false, verbose: 0 });
        assert.deepEqual(values(resumed), values(reference), 'weights after resume');

        for (const m of [variant, reference, interrupted, resumed])
          (m.optimizer as tf.Optimizer).dispose();
        for (const m of [plain, variant, reference, interrupted, resumed]) m.dispose();
        tf.dispose([x, y]);
      }));
  }
}

for (const [name, make] of FAMILY) {
  test(`wasm: ${name} — the fused passes follow the composed ones' trajectory`, async () => {
    const train = (fused: boolean) =>
      on('wasm', fused, async () => {
        const { x, y } = data();
        const m = model(3);
        m.compile({ optimizer: make(), loss: 'categoricalCrossentropy' });
        await m.fit(x, y, { epochs: 5, batchSize: 8, shuffle: false, verbose: 0 });
        const weights = values(m);
        (m.optimizer as tf.Optimizer).dispose();
        m.dispose();
        tf.dispose([x, y]);
        return weights;
      });
    const composed = await train(false);
    const fusedRun = await train(true);
    composed.forEach((expected, i) => {
      const actual = fusedRun[i] as number[];
      const scale = Math.max(1, ...expected.map(Math.abs));
      const error = Math.max(...expected.map((e, j) => Math.abs(e - (actual[j] as number))));
      assert.ok(error <= 1e-5 * scale, `weight ${i}: max difference ${error}`);
    });
  });
}
