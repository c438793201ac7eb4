/**
 * npm run bench:overhead [-- --model mlp|cnn --methods "sam,asam,gsam,..." --backend wasm|cpu
 *                           --steps 20 --out bench/results/overhead-<model>.json]
 *
 * Cost of every sharpness-aware method over its base optimizer (SGD momentum 0.9) with
 * `model.trainOnBatch` (the path `fit` takes): ms per step and the ratio to the base,
 * forward and backward passes per step counted by instrumentation (not assumed), and the peak
 * memory a step allocates beyond the base run's peak, in copies of the parameters.
 * Each method runs in a fresh process. The machine is shared, so the base and the method are
 * timed in alternating rounds (one cycle of the method each: k steps for LookSAM, one step
 * otherwise) and the ratio is the median of the rounds' ratios: a load that comes and goes hits
 * both sides alike. The peak is that of a step at the start of a cycle (LookSAM's full step).
 * Models: mlp = 784-1024-1024-10 at batch 256; cnn = conv32-pool-conv64-pool-dense128-dense10 on
 * 28×28×1 at batch 128.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from '../src/models/index.js';
import { startBackend } from '../src/cli/setup.js';
import {
  buildOptimizer,
  parseOptimizerList,
  passesPerStep,
  type OptimizerSpec,
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
    // Internal: measure one method in this process and print it as a CHILD line.
    child: { type: 'boolean', default: false },
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
const backend = await startBackend(values.backend as string, () => undefined);
const machine = machineInfo();
if (!values.child) {
  printHeader(
    `Sharpness-aware overhead: ${values.model} at batch ${shape.batch}, ${steps} timed steps after 2 warm-up steps, ${backend} backend, base SGD momentum 0.9; each method in a fresh process`,
    machine,
  );
}

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

interface Trainee {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  counters: Counters;
}

function trainee(makeOptimizer: () => tf.Optimizer): Trainee {
  const model: tfl.LayersModel = buildModel(shape!.model as never, {
    inputShape: shape!.inputShape,
    classes: 10,
    seed: 1,
  });
  const optimizer = makeOptimizer();
  const counters: Counters = { forward: 0, backward: 0 };
  instrument(optimizer, counters);
  model.compile({ optimizer, loss: 'categoricalCrossentropy' });
  return { model, optimizer, counters };
}

/** Wall time of `count` steps of `t`, its passes counted in its own counters. */
async function timeSteps(t: Trainee, count: number): Promise<number> {
  activeCounters = t.counters;
  const start = performance.now();
  for (let i = 0; i < count; i++) await t.model.trainOnBatch(x, y);
  return performance.now() - start;
}

async function peakBytes(t: Trainee): Promise<number> {
  activeCounters = t.counters;
  const profile = await tf.profile(async () => {
    await t.model.trainOnBatch(x, y);
  });
  return profile.peakBytes;
}

function release(t: Trainee): void {
  t.optimizer.dispose();
  t.model.dispose();
}

/** Steps in one cycle of the method's schedule (LookSAM: k), timed as one block. */
function cycleOf(spec: OptimizerSpec): number {
  return spec.name === 'looksam' ? Number(spec.options['k'] ?? 5) : 1;
}

interface Measured {
  msPerStep: number;
  baseMsPerStep: number;
  ratio: number;
  peakBytes: number;
  forwardPerStep: number;
  backwardPerStep: number;
}

/** `rounds` alternating blocks of one cycle each for the base and the method. */
async function measure(spec: OptimizerSpec, rounds: number): Promise<Measured> {
  const base = trainee(() => buildOptimizer(BASE_SPEC, common));
  const method = trainee(() => buildOptimizer(spec, common));
  let released = false;
  try {
    const cycle = cycleOf(spec);
    for (const t of [base, method]) await timeSteps(t, 2 * cycle);
    method.counters.forward = 0;
    method.counters.backward = 0;
    const baseMs: number[] = [];
    const methodMs: number[] = [];
    for (let round = 0; round < rounds; round++) {
      baseMs.push((await timeSteps(base, cycle)) / cycle);
      methodMs.push((await timeSteps(method, cycle)) / cycle);
    }
    const timedSteps = rounds * cycle;
    const passes = {
      forward: method.counters.forward / timedSteps,
      backward: method.counters.backward / timedSteps,
    };
    // The peak is read with the method's model alone in memory, as the base's was.
    release(base);
    released = true;
    return {
      msPerStep: median(methodMs),
      baseMsPerStep: median(baseMs),
      ratio: median(methodMs.map((ms, i) => ms / (baseMs[i] as number))),
      peakBytes: await peakBytes(method),
      forwardPerStep: passes.forward,
      backwardPerStep: passes.backward,
    };
  } finally {
    if (!released) release(base);
    release(method);
  }
}

const BASE_SPEC: OptimizerSpec = { label: 'momentum', name: 'momentum', options: {} };
const specs = parseOptimizerList(values.methods as string);

interface Row {
  method: string;
  limit: number;
  msPerStep: number;
  baseMsPerStep: number;
  ratio: number;
  peakBytes: number;
  forwardPerStep: number;
  backwardPerStep: number;
  extraCopies: number;
}

/** In a child: the base alone (its ms/step and peak), then the one method against it. */
async function measureInThisProcess(spec: OptimizerSpec): Promise<{ base: Row; row: Row }> {
  const reference = trainee(() => buildOptimizer(BASE_SPEC, common));
  await timeSteps(reference, 2);
  const baseMs = (await timeSteps(reference, steps)) / steps;
  const basePeak = await peakBytes(reference);
  const parameterBytes = reference.model.countParams() * 4;
  release(reference);
  const base: Row = {
    method: 'momentum (base)',
    limit: 1,
    msPerStep: baseMs,
    baseMsPerStep: baseMs,
    ratio: 1,
    peakBytes: basePeak,
    forwardPerStep: 1,
    backwardPerStep: 1,
    extraCopies: 0,
  };
  const measured = await measure(spec, Math.max(1, Math.round(steps / cycleOf(spec))));
  return {
    base,
    row: {
      method: spec.label,
      limit: passesPerStep(spec),
      ...measured,
      extraCopies: (measured.peakBytes - basePeak) / parameterBytes,
    },
  };
}

if (values.child) {
  const result = await measureInThisProcess(specs[0] as OptimizerSpec);
  console.log(`CHILD ${JSON.stringify(result)}`);
  process.exit(0);
}

// A long-lived process that has built and freed many models steps measurably slower (the wasm
// heap only grows): each method is measured in a fresh process, against a base in that process.
const bases: Row[] = [];
const rows: Row[] = [];
for (const spec of specs) {
  const child = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...['--model', String(values.model), '--backend', String(values.backend)],
      ...['--steps', String(steps), '--methods', spec.label, '--child'],
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('CHILD '));
  if (child.status !== 0 || line === undefined) {
    console.log(`${spec.label}: not measured — ${child.stderr.trim().split('\n').at(-1) ?? ''}`);
    continue;
  }
  const { base, row } = JSON.parse(line.slice('CHILD '.length)) as { base: Row; row: Row };
  bases.push(base);
  rows.push(row);
}
const baseRow: Row = {
  ...(bases[0] as Row),
  msPerStep: median(bases.map((b) => b.msPerStep)),
  baseMsPerStep: median(bases.map((b) => b.msPerStep)),
};
const results = [baseRow, ...rows];

console.log(
  formatTable(
    results.map((r) => ({
      method: r.method,
      'ms/step': r.msPerStep.toFixed(1),
      'base ms/step (same rounds)': r.baseMsPerStep.toFixed(1),
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
