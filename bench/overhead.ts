/**
 * npm run bench:overhead [-- --model mlp|cnn --methods "sam,asam,gsam,..." --backend wasm|cpu
 *                           --steps 20 --repeats 3 --out FILE (default runs/bench/overhead-<model>.json)]
 *
 * Cost of every sharpness-aware method over its base optimizer (SGD momentum 0.9) with
 * `model.trainOnBatch` (the path `fit` takes): ms per step and the ratio to the base,
 * forward and backward passes per step counted by instrumentation (not assumed), and the peak
 * memory a step allocates beyond the base run's peak, in copies of the parameters.
 * Each method runs in `repeats` fresh processes. The machine is shared, so the base and the
 * method are timed in alternating rounds (one cycle of the method each: k steps for LookSAM, one
 * step otherwise); a process's ratio is the median of its rounds' ratios (a load that comes and
 * goes hits both sides alike) and the method's ratio the median over its processes, printed with
 * their range. The peak is that of a step at the start of a cycle (LookSAM's full step).
 * A method that selects data (ESAM with its default gamma 0.5; `capabilities.dataSelection`) cannot
 * run under trainOnBatch: it is timed in a custom loop (`stepWithDataSelection` with per-example
 * cross-entropy) against the base's `minimize` on the same loss, and its limit is 1 + φ + γ passes
 * of a step, φ the measured share of the forward pass in a base step and γ the fraction it selects
 * (a forward-only pass over the batch, then training on γ of it). A method that takes the previous
 * batch too (SAMPa, `capabilities.previousBatch`) also runs in the custom loop (`stepWithPrevious`,
 * the benchmark's one batch standing for both), against its pass limit.
 * The default method list is the registry's: every method with its defaults and the settings it
 * names worth measuring (`variants`); a method that cannot run on the model says why.
 * Models: mlp = 784-1024-1024-10 at batch 256; cnn = conv32-pool-conv64-pool-dense128-dense10 on
 * 28×28×1 at batch 128.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from '../src/models/index.js';
import { selectBackend, type BackendChoice } from '../src/backend/select.js';
import type { DataSelecting, PerExampleLoss, PreviousBatchStepping } from '../src/core/method.js';
import { capabilitiesOf } from '../src/toolkit/capabilities.js';
import { disposeOptimizer } from '../src/optimizers/registry.js';
import {
  buildOptimizer,
  formatOptimizerSpec,
  methodOptions,
  parseOptimizerList,
  passesPerStep,
  type OptimizerSpec,
} from '../src/toolkit/optimizer-spec.js';
import { METHODS } from '../src/variants/registry.js';
import { formatTable, integerFlag, machineInfo, median, printHeader, writeJson } from './report.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'mlp' },
    methods: {
      type: 'string',
      default: METHODS.flatMap((m) => [
        m.name,
        ...(m.variants ?? []).map((options) => formatOptimizerSpec(m.name, options)),
      ]).join(','),
    },
    repeats: { type: 'string', default: '3' },
    backend: { type: 'string', default: 'wasm' },
    steps: { type: 'string', default: '20' },
    out: { type: 'string' },
    // Internal: measure one method in this process and print it as a CHILD line.
    child: { type: 'boolean', default: false },
  },
});
const steps = integerFlag('--steps', values.steps as string, 1);
const repeats = integerFlag('--repeats', values.repeats as string, 1);
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
const backend = await selectBackend({
  prefer: values.backend as BackendChoice,
  log: () => undefined,
});
const machine = machineInfo();
if (!values.child) {
  printHeader(
    `Sharpness-aware overhead: ${values.model} at batch ${shape.batch}, ${steps} timed steps after 2 warm-up steps, ${backend} backend, base SGD momentum 0.9; each method in ${repeats} fresh processes`,
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
// An epoch of 60 000 images: XSAM searches α once per epoch, as in its official code.
const common = {
  learningRate: 0.01,
  momentum: 0.9,
  weightDecay: 0,
  base: 'momentum',
  stepsPerEpoch: Math.ceil(60_000 / shape.batch),
};

interface Counters {
  /** Forward passes, in batches (a pass over half the batch counts 0.5). */
  forward: number;
  /** Backward passes, in batches of the forward pass they differentiate. */
  backward: number;
  /** The batch fraction of the latest forward pass. */
  lastFraction: number;
}

/** Counts the optimizer's loss-closure calls (forward passes over the whole batch). */
function countForwardPasses(optimizer: tf.Optimizer, counters: Counters): void {
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
}

/** Counts engine.gradients calls (backward passes) into `activeCounters`; installed once. */
function countBackwardPasses(): void {
  const engine = tf.engine() as unknown as { gradients: (...args: unknown[]) => unknown };
  if (!('countingGradients' in engine)) {
    const gradients = engine.gradients.bind(engine);
    Object.assign(engine, {
      countingGradients: true,
      gradients: (...args: unknown[]) => {
        activeCounters.lastFraction = 1;
        const result = gradients(...args);
        activeCounters.backward += activeCounters.lastFraction;
        return result;
      },
    });
  }
}
let activeCounters: Counters = { forward: 0, backward: 0, lastFraction: 1 };

interface Trainee {
  model: tfl.LayersModel;
  optimizer: tf.Optimizer;
  counters: Counters;
  /** One training step: trainOnBatch, or a custom loop's step. */
  step: () => Promise<void>;
}

/** Per-example cross-entropy of the model in training mode (all examples, or those at `indices`). */
function perExampleLoss(model: tfl.LayersModel, counters: Counters): PerExampleLoss {
  return (indices) =>
    tf.tidy(() => {
      const inputs = indices === null ? x : tf.gather(x, indices);
      const targets = indices === null ? y : tf.gather(y, indices);
      counters.lastFraction = inputs.shape[0] / shape!.batch;
      counters.forward += counters.lastFraction;
      const probabilities = model.apply(inputs, { training: true }) as tf.Tensor;
      return tf.neg(tf.sum(tf.mul(targets, tf.log(tf.clipByValue(probabilities, 1e-7, 1))), -1));
    }) as tf.Tensor1D;
}

/** `custom`: the step runs in a custom loop on the per-example loss (ESAM's data selection). */
function trainee(makeOptimizer: () => tf.Optimizer, custom = false): Trainee {
  const model: tfl.LayersModel = buildModel(shape!.model as never, {
    inputShape: shape!.inputShape,
    classes: 10,
    seed: 1,
  });
  const optimizer = makeOptimizer();
  const counters: Counters = { forward: 0, backward: 0, lastFraction: 1 };
  countBackwardPasses();
  if (!custom) {
    countForwardPasses(optimizer, counters);
    model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    return {
      model,
      optimizer,
      counters,
      step: async () => {
        await model.trainOnBatch(x, y);
      },
    };
  }
  const loss = perExampleLoss(model, counters);
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const capabilities = capabilitiesOf(optimizer);
  const mean = () => tf.mean(loss(null)) as tf.Scalar;
  const step =
    capabilities?.dataSelection === true
      ? () =>
          tf.dispose(
            (optimizer as tf.Optimizer & DataSelecting).stepWithDataSelection(loss, variables),
          )
      : capabilities?.previousBatch === true
        ? () =>
            tf.dispose(
              (optimizer as tf.Optimizer & PreviousBatchStepping).stepWithPrevious(
                mean,
                mean,
                variables,
              ),
            )
        : () => optimizer.minimize(mean, false, variables);
  return { model, optimizer, counters, step: async () => step() };
}

/** Wall time of `count` steps of `t`, its passes counted in its own counters. */
async function timeSteps(t: Trainee, count: number): Promise<number> {
  activeCounters = t.counters;
  const start = performance.now();
  for (let i = 0; i < count; i++) await t.step();
  return performance.now() - start;
}

async function peakBytes(t: Trainee): Promise<number> {
  activeCounters = t.counters;
  const profile = await tf.profile(async () => {
    await t.step();
  });
  return profile.peakBytes;
}

/** The share of a base step spent in its forward pass (training mode, no gradient). */
async function forwardShare(t: Trainee, count: number): Promise<number> {
  const loss = perExampleLoss(t.model, { forward: 0, backward: 0, lastFraction: 1 });
  const forward = () => tf.dispose(loss(null));
  for (let i = 0; i < 2; i++) forward();
  const ratios: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    forward();
    const forwardMs = performance.now() - start;
    ratios.push(forwardMs / (await timeSteps(t, 1)));
  }
  return median(ratios);
}

function release(t: Trainee): void {
  t.optimizer.dispose();
  t.model.dispose();
}

/** Steps in one cycle of the method's schedule (LookSAM: k), timed as one block. */
function cycleOf(spec: OptimizerSpec): number {
  const resolved = methodOptions(spec, common);
  return resolved?.method.cycle?.(resolved.options) ?? 1;
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
  const custom = usesDataSelection(spec);
  const base = trainee(() => buildOptimizer(BASE_SPEC, common), custom);
  const method = trainee(() => buildOptimizer(spec, common), custom);
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

/** The fraction of the batch a data-selecting method trains on (null: it selects none). */
function selectedFraction(spec: OptimizerSpec): number | null {
  const resolved = methodOptions(spec, common);
  const option = resolved?.method.selectionFraction;
  const fraction = option === undefined ? 1 : (resolved?.options[option] as number);
  return fraction < 1 ? fraction : null;
}

/** Methods `model.fit` cannot step (data selection, the previous batch): the custom loop. */
function usesDataSelection(spec: OptimizerSpec): boolean {
  const optimizer = buildOptimizer(spec, common);
  const capabilities = capabilitiesOf(optimizer);
  disposeOptimizer(optimizer);
  return capabilities?.dataSelection === true || capabilities?.previousBatch === true;
}
const specs = parseOptimizerList(values.methods as string);

interface Row extends Measured {
  method: string;
  /** How the steps ran: trainOnBatch (as under fit) or a custom loop. */
  loop: 'trainOnBatch' | 'custom';
  limit: number;
  /** The lowest and highest ratio of the method's processes. */
  ratioRange: [number, number];
  extraCopies: number;
}

/** In a child: the base alone (its ms/step and peak), then the one method against it. */
async function measureInThisProcess(spec: OptimizerSpec): Promise<{ base: Row; row: Row }> {
  const reference = trainee(() => buildOptimizer(BASE_SPEC, common));
  await timeSteps(reference, 2);
  const baseMs = (await timeSteps(reference, steps)) / steps;
  const basePeak = await peakBytes(reference);
  const custom = usesDataSelection(spec);
  const selects = selectedFraction(spec) !== null;
  const phi = selects ? await forwardShare(reference, steps) : 0;
  const parameterBytes = reference.model.countParams() * 4;
  release(reference);
  // The method's peak is compared with that of its base in the same loop.
  let loopBasePeak = basePeak;
  if (custom) {
    const customBase = trainee(() => buildOptimizer(BASE_SPEC, common), true);
    await timeSteps(customBase, 1);
    loopBasePeak = await peakBytes(customBase);
    release(customBase);
  }
  const base: Row = {
    method: 'momentum (base)',
    loop: 'trainOnBatch',
    limit: 1,
    ratioRange: [1, 1],
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
      loop: custom ? 'custom' : 'trainOnBatch',
      limit: selects ? 1 + phi + (selectedFraction(spec) as number) : passesPerStep(spec, common),
      ratioRange: [measured.ratio, measured.ratio],
      ...measured,
      extraCopies: (measured.peakBytes - loopBasePeak) / parameterBytes,
    },
  };
}

if (values.child) {
  const result = await measureInThisProcess(specs[0] as OptimizerSpec);
  console.log(`CHILD ${JSON.stringify(result)}`);
  process.exit(0);
}

// A long-lived process that has built and freed many models steps measurably slower (the wasm
// heap only grows): each measurement runs in a fresh process, against a base in that process.
// The repeats go round the methods, so a spell of load on the shared machine spreads over them.
function measureInChild(spec: OptimizerSpec): { base: Row; row: Row } | null {
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
    const lines = child.stderr.trim().split('\n');
    const reason = lines.find((l) => /Error: /.test(l)) ?? lines.at(-1) ?? '';
    console.log(`${spec.label}: not measured — ${reason.trim()}`);
    return null;
  }
  return JSON.parse(line.slice('CHILD '.length)) as { base: Row; row: Row };
}

/** One row from a method's processes: medians of the timings, the range of the ratios. */
function combine(measurements: readonly Row[]): Row {
  const ratios = measurements.map((m) => m.ratio);
  const middle = (pick: (m: Row) => number) => median(measurements.map(pick));
  return {
    ...(measurements[0] as Row),
    msPerStep: middle((m) => m.msPerStep),
    baseMsPerStep: middle((m) => m.baseMsPerStep),
    ratio: median(ratios),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    limit: middle((m) => m.limit),
  };
}

const bases: Row[] = [];
const measured = new Map<string, Row[]>(specs.map((spec) => [spec.label, []]));
for (let repeat = 0; repeat < repeats; repeat++) {
  for (const spec of specs) {
    const result = measureInChild(spec);
    if (result === null) continue;
    bases.push(result.base);
    measured.get(spec.label)?.push(result.row);
  }
}
const rows = [...measured.values()].filter((m) => m.length > 0).map(combine);
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
      loop: r.loop,
      'ms/step': r.msPerStep.toFixed(1),
      'base ms/step (same rounds)': r.baseMsPerStep.toFixed(1),
      'ratio to base': r.ratio.toFixed(3),
      [`range (${repeats} processes)`]: `${r.ratioRange[0].toFixed(2)}–${r.ratioRange[1].toFixed(2)}`,
      'limit (passes)': r.limit.toFixed(2),
      'within 5% of limit': r.ratio <= r.limit * 1.05 ? 'yes' : 'no',
      'fwd/step': r.forwardPerStep.toFixed(2),
      'bwd/step': r.backwardPerStep.toFixed(2),
      'extra peak (param copies)': r.extraCopies.toFixed(2),
    })),
  ),
);
writeJson(values.out ?? `runs/bench/overhead-${values.model}.json`, {
  benchmark: 'overhead',
  machine,
  backend,
  model: values.model,
  batch: shape.batch,
  steps,
  repeats,
  results,
});
tf.dispose([x, y]);
