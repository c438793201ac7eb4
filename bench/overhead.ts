/**
 * npm run bench:overhead [-- --backend wasm|cpu --steps 10 --out bench/results/overhead.json]
 *
 * Cost of SAM over its base optimizer on the MLP 784-1024-1024-10 at batch 256, measured with
 * `model.trainOnBatch` (the path `fit` takes): median ms per step, the ratio (two forward/backward
 * passes make 2.0 the floor), and the peak bytes a step allocates beyond the base run's peak,
 * in copies of the parameters (goal: ≤ 1).
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { AdamW, sam } from '../src/index.js';
import { formatTable, machineInfo, median, printHeader, writeJson } from './report.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '10' },
    out: { type: 'string', default: 'bench/results/overhead.json' },
  },
});
const steps = Number(values.steps);
if (!Number.isInteger(steps) || steps < 1)
  throw new Error(`--steps is '${values.steps}'; expected an integer >= 1.`);
if (!(await tf.setBackend(values.backend as string)))
  throw new Error(`--backend '${values.backend}' could not start; use wasm or cpu.`);
await tf.ready();

const BATCH = 256;
const machine = machineInfo();
printHeader(
  `SAM overhead: MLP 784-1024-1024-10, batch ${BATCH}, ${steps} timed steps after 2 warm-up steps, ${tf.getBackend()} backend`,
  machine,
);

function buildModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 1024,
        inputShape: [784],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.dense({
        units: 1024,
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      }),
      tfl.layers.dense({
        units: 10,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
      }),
    ],
  });
}

const x = tf.randomUniform([BATCH, 784], 0, 1, 'float32', 7);
const y = tf.tidy(() =>
  tf.cast(
    tf.oneHot(tf.cast(tf.floor(tf.randomUniform([BATCH], 0, 10, 'float32', 8)), 'int32'), 10),
    'float32',
  ),
);

interface Measured {
  msPerStep: number;
  peakBytes: number;
  parameterBytes: number;
}

async function measure(makeOptimizer: () => tf.Optimizer): Promise<Measured> {
  const model = buildModel();
  const optimizer = makeOptimizer();
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  await model.trainOnBatch(x, y);
  await model.trainOnBatch(x, y);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await model.trainOnBatch(x, y);
    times.push(performance.now() - start);
  }
  const profile = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const parameterBytes = model.countParams() * 4;
  optimizer.dispose();
  model.dispose();
  return { msPerStep: median(times), peakBytes: profile.peakBytes, parameterBytes };
}

const pairs: Array<[string, () => tf.Optimizer, () => tf.Optimizer]> = [
  ['sgd', () => tf.train.sgd(0.01), () => sam(tf.train.sgd(0.01))],
  ['momentum', () => tf.train.momentum(0.01, 0.9), () => sam(tf.train.momentum(0.01, 0.9))],
  ['adamw', () => new AdamW({ learningRate: 1e-3 }), () => sam(new AdamW({ learningRate: 1e-3 }))],
  [
    'momentum (ASAM)',
    () => tf.train.momentum(0.01, 0.9),
    () => sam(tf.train.momentum(0.01, 0.9), { adaptive: true }),
  ],
];

const results = [];
for (const [base, makeBase, makeSam] of pairs) {
  const plain = await measure(makeBase);
  const wrapped = await measure(makeSam);
  results.push({
    base,
    backend: tf.getBackend(),
    batch: BATCH,
    steps,
    baseMsPerStep: plain.msPerStep,
    samMsPerStep: wrapped.msPerStep,
    ratio: wrapped.msPerStep / plain.msPerStep,
    extraPeakBytes: wrapped.peakBytes - plain.peakBytes,
    extraPeakParameterCopies: (wrapped.peakBytes - plain.peakBytes) / plain.parameterBytes,
  });
}

console.log(
  formatTable(
    results.map((r) => ({
      base: r.base,
      'base ms/step': r.baseMsPerStep.toFixed(1),
      'SAM ms/step': r.samMsPerStep.toFixed(1),
      ratio: r.ratio.toFixed(3),
      'extra peak MB': (r.extraPeakBytes / 2 ** 20).toFixed(1),
      'extra peak (param copies)': r.extraPeakParameterCopies.toFixed(2),
    })),
  ),
);
console.log(
  '\nLimits: ratio 2.0 (two forward/backward passes), goal <= 2.05; extra peak memory goal <= 1 parameter copy.',
);
writeJson(values.out as string, {
  benchmark: 'overhead',
  machine,
  model: 'mlp-784-1024-1024-10',
  results,
});
tf.dispose([x, y]);
