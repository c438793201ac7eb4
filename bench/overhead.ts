/**
 * npm run bench:overhead [-- --model mlp|cnn --methods "sam,asam,gsam,..." --backend wasm|cpu
 *                           --steps 20 --out bench/results/overhead-<model>.json]
 *
 * Cost of every sharpness-aware method over its base optimizer (SGD momentum 0.9) with
 * `model.trainOnBatch` (the path `fit` takes): mean ms per step and the ratio to the base,
 * forward and backward passes per step counted by instrumentation (not assumed), and the peak
 * memory a step allocates beyond the base run's peak, in copies of the parameters.
 * Models: mlp = 784-1024-1024-10 at batch 256; cnn = conv32-pool-conv64-pool-dense128-dense10 on
 * 28×28×1 at batch 128.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from '../src/models/index.js';
import { startBackend } from '../src/cli/setup.js';
import {
  buildOptimizer,
  parseOptimizerList,
  passesPerStep,
} from '../src/toolkit/optimizer-spec.js';
import { formatTable, machineInfo, median, printHeader, writeJson } from './report.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mlp' },
    methods: {
      type: 'string',
      default: 'sam,asam,sam(ascentSteps=2),gsam,wsam,looksam,fsam,esam,msam,xsam(alphaEvery=235)',
    },
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '20' },
    out: { type: 'string' },
  },
});
const steps = Number(values.steps);
if (!Number.isInteger(steps) || steps < 1)
  throw new Error(`--steps is '${values.steps}'; expected an integer >= 1.`);
const SHAPES: Record<
  string,
  { batch: number; inputShape: [number, number, number]; model: string }
> = {
  mlp: { batch: 256, inputShape: [28, 28, 1], model: 'mlp' },
  cnn: { batch: 128, inputShape: [28, 28, 1], model: 'cnn' },
};
const shape = SHAPES[values.model as string];
if (shape === undefined)
  throw new Error(
    `--model is '${values.model}'; expected one of ${Object.keys(SHAPES).join(', ')}.`,
  );
const backend = await startBackend(values.backend as string);
const machine = machineInfo();
printHeader(
  `Sharpness-aware overhead: ${values.model} at batch ${shape.batch}, ${steps} timed steps after 2 warm-up steps, ${backend} backend, base SGD momentum 0.9`,
  machine,
);

const x = tf.randomUniform([shape.batch, ...shape.inputShape], 0, 1, 'float32', 7);
const y = tf.tidy(() =>
  tf.cast(
    tf.oneHot(tf.cast(tf.floor(tf.randomUniform([shape.batch], 0, 10, 'float32', 8)), 'int32'), 10),
    'float32',
  ),
);
const common = { learningRate: 0.01, momentum: 0.9, weightDecay: 0, base: 'momentum' };

interface Counters {
  forward: number;
  backward: number;
}

/** Counts loss-closure calls (forward passes) and engine.gradients calls (backward passes). */
function instrument(optimizer: tf.Optimizer, counters: Counters): void {
  const minimize = optimizer.minimize.bind(optimizer);
  optimizer.minimize = (f, returnCost, varList) =>
    minimize(
      () => {
        counters.forward += 1;
        return f();
      },
      returnCost,
      varList,
    );
  const engine = tf.engine() as unknown as { gradients: (...args: unknown[]) => unknown };
  if (!('countingGradients' in engine)) {
    const gradients = engine.gradients.bind(engine);
    Object.assign(engine, {
      countingGradients: true,
      gradients: (...args: unknown[]) => {
        activeCounters.backward += 1;
        return gradients(...args);
      },
    });
  }
}
let activeCounters: Counters = { forward: 0, backward: 0 };

interface Measured {
  msPerStep: number;
  medianMsPerStep: number;
  peakBytes: number;
  parameterBytes: number;
  forwardPerStep: number;
  backwardPerStep: number;
}

async function measure(makeOptimizer: () => tf.Optimizer): Promise<Measured> {
  const model: tfl.LayersModel = buildModel(shape!.model as never, {
    inputShape: shape!.inputShape,
    classes: 10,
    seed: 1,
  });
  const optimizer = makeOptimizer();
  const counters: Counters = { forward: 0, backward: 0 };
  instrument(optimizer, counters);
  activeCounters = counters;
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  await model.trainOnBatch(x, y);
  await model.trainOnBatch(x, y);
  counters.forward = 0;
  counters.backward = 0;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await model.trainOnBatch(x, y);
    times.push(performance.now() - start);
  }
  const measuredPasses = { forward: counters.forward / steps, backward: counters.backward / steps };
  const profile = await tf.profile(async () => {
    await model.trainOnBatch(x, y);
  });
  const parameterBytes = model.countParams() * 4;
  optimizer.dispose();
  model.dispose();
  return {
    // The mean, not the median: LookSAM alternates cheap and full steps, its cost is amortized.
    msPerStep: times.reduce((sum, t) => sum + t, 0) / times.length,
    medianMsPerStep: median(times),
    peakBytes: profile.peakBytes,
    parameterBytes,
    forwardPerStep: measuredPasses.forward,
    backwardPerStep: measuredPasses.backward,
  };
}

const specs = parseOptimizerList(values.methods as string);
const base = await measure(() =>
  buildOptimizer({ label: 'momentum', name: 'momentum', options: {} }, common),
);
const results = [{ method: 'momentum (base)', limit: 1, ...base, ratio: 1, extraCopies: 0 }];
for (const spec of specs) {
  let measured: Measured;
  try {
    measured = await measure(() => buildOptimizer(spec, common));
  } catch (error) {
    console.log(`${spec.label}: not measured — ${(error as Error).message}`);
    continue;
  }
  results.push({
    method: spec.label,
    limit: passesPerStep(spec),
    ...measured,
    ratio: measured.msPerStep / base.msPerStep,
    extraCopies: (measured.peakBytes - base.peakBytes) / base.parameterBytes,
  });
}

console.log(
  formatTable(
    results.map((r) => ({
      method: r.method,
      'ms/step': r.msPerStep.toFixed(1),
      'ratio to base': r.ratio.toFixed(3),
      'limit (passes)': r.limit.toFixed(2),
      'within 5% of limit': r.ratio <= r.limit * 1.05 ? 'yes' : 'no',
      'fwd/step': r.forwardPerStep.toFixed(2),
      'bwd/step': r.backwardPerStep.toFixed(2),
      'extra peak (param copies)': r.extraCopies.toFixed(2),
    })),
  ),
);
writeJson(values.out ?? `bench/results/overhead-${values.model}.json`, {
  benchmark: 'overhead',
  machine,
  backend,
  model: values.model,
  batch: shape.batch,
  steps,
  results,
});
tf.dispose([x, y]);
