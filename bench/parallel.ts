/**
 * Milliseconds per data-parallel train step (src/parallel) against the single-thread
 * `model.trainOnBatch` step on the same batch, on the wasm backend with the training kernels.
 *   npm run bench:parallel -- --model mlp|cnn --optimizer SPEC --workers 1,2 --steps N
 *     [--warmup 1] [--out FILE (default runs/bench/parallel-<model>-<optimizer>.json; committed results are written with --out bench/results/…)]
 * SPEC is any optimizer spec the CLI takes over SGD (sgd, sam, samon, sampa, …). Every worker count
 * runs with and without a slice in the main thread (a method that runs on two threads only, SAMPa,
 * prints why the others are not run). With SAM the data-parallel step is m-sharpness with m =
 * slices, the single-thread one m = 1: the same amount of work. SAMPa's single-thread step takes
 * its two gradients one after the other (the benchmark's batch standing for the previous one too),
 * its data-parallel step one per thread. Every run also times plain SGD on one thread, the
 * reference of the last column.
 * The machine may be shared: the 1-minute load average is recorded before and after each row.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import * as tfl from '@tensorflow/tfjs-layers';
import type { PreviousBatchStepping } from '../src/core/method.js';
import { createDataParallel } from '../src/parallel/index.js';
import { capabilitiesOf } from '../src/toolkit/capabilities.js';
import { buildOptimizer, parseOptimizerSpec } from '../src/toolkit/optimizer-spec.js';
import { parseArgs as parseCommandLine } from 'node:util';
import {
  choiceFlag,
  formatTable,
  integerFlag,
  machineInfo,
  median,
  printHeader,
  writeJson,
} from './report.js';
import { WORKLOADS, buildWorkloadModel, workloadTargets } from './workloads.js';

const PARALLEL_MODELS = ['mlp', 'cnn'] as const;
type ParallelModel = (typeof PARALLEL_MODELS)[number];
interface Args {
  model: ParallelModel;
  optimizer: string;
  workers: number[];
  steps: number;
  warmup: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      model: { type: 'string', default: 'mlp' },
      optimizer: { type: 'string', default: 'sgd' },
      workers: { type: 'string', default: '1,2' },
      steps: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      out: { type: 'string' },
    },
  });
  return {
    model: choiceFlag('--model', values.model, PARALLEL_MODELS),
    optimizer: values.optimizer,
    workers: values.workers.split(',').map((count) => integerFlag('--workers', count, 1)),
    steps: integerFlag('--steps', values.steps, 1),
    warmup: integerFlag('--warmup', values.warmup, 0),
    ...(values.out === undefined ? {} : { out: values.out }),
  };
}

function makeOptimizer(spec: string): tf.Optimizer {
  return buildOptimizer(parseOptimizerSpec(spec), {
    learningRate: 0.01,
    momentum: 0.9,
    weightDecay: 0,
    base: 'sgd',
  });
}

/** One single-thread step: trainOnBatch, or SAMPa's two gradients one after the other. */
function singleStep(model: tfl.LayersModel, optimizer: tf.Optimizer, xs: tf.Tensor, ys: tf.Tensor) {
  if (capabilitiesOf(optimizer)?.previousBatch !== true) return () => model.trainOnBatch(xs, ys);
  const classes = (model.outputs[0] as tfl.SymbolicTensor).shape.at(-1) as number;
  const lossFn = () =>
    tf.mean(
      tfl.metrics.categoricalCrossentropy(
        tf.oneHot(tf.cast(tf.reshape(ys, [-1]), 'int32'), classes),
        model.apply(xs, { training: true }) as tf.Tensor,
      ),
    ) as tf.Scalar;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return async () =>
    tf.dispose(
      (optimizer as tf.Optimizer & PreviousBatchStepping).stepWithPrevious(
        lossFn,
        lossFn,
        variables,
      ),
    );
}

interface Row {
  mode: string;
  workers: number;
  mainThreadSlice: boolean;
  slices: number;
  msPerStep: number;
  medianMsPerStep: number;
  /** 1-minute load average just before and just after the row. */
  loadAverage: [number, number];
}

const load = () => os.loadavg()[0] ?? NaN;

async function timeSteps(step: () => Promise<unknown>, args: Args): Promise<number[]> {
  for (let i = 0; i < args.warmup; i++) await step();
  const stepMs: number[] = [];
  for (let i = 0; i < args.steps; i++) {
    const start = performance.now();
    await step();
    stepMs.push(performance.now() - start);
  }
  return stepMs;
}

function row(
  mode: string,
  workers: number,
  mainThreadSlice: boolean,
  stepMs: number[],
  loadBefore: number,
): Row {
  return {
    mode,
    workers,
    mainThreadSlice,
    slices: workers + (mainThreadSlice ? 1 : 0),
    msPerStep: stepMs.reduce((a, b) => a + b, 0) / stepMs.length,
    medianMsPerStep: median(stepMs),
    loadAverage: [loadBefore, load()],
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  printHeader('data-parallel train step (wasm backend with the training kernels)', machine);
  const loadAtStart = load();
  console.log(
    `model ${args.model}, batch ${WORKLOADS[args.model].batch}, optimizer ${args.optimizer}; ` +
      `${args.steps} steps timed after ${args.warmup} warm-up; 1-minute load average ${loadAtStart.toFixed(2)}\n`,
  );
  await selectBackend({ prefer: 'wasm', log: () => undefined });
  const work = WORKLOADS[args.model];
  const xs = work.inputs();
  const ys = workloadTargets(work);
  const rows: Row[] = [];

  let loadBefore = load();
  for (const [mode, spec] of [
    ['single thread, sgd (reference)', 'sgd'],
    ['single thread', args.optimizer],
  ] as const) {
    loadBefore = load();
    const single: tfl.LayersModel = buildWorkloadModel(work);
    const singleOptimizer = makeOptimizer(spec);
    single.compile({ optimizer: singleOptimizer, loss: 'sparseCategoricalCrossentropy' });
    rows.push(
      row(
        mode,
        0,
        true,
        await timeSteps(singleStep(single, singleOptimizer, xs, ys), args),
        loadBefore,
      ),
    );
    single.dispose();
    singleOptimizer.dispose();
  }

  for (const workers of args.workers) {
    for (const mainThreadSlice of [false, true]) {
      loadBefore = load();
      const optimizer = makeOptimizer(args.optimizer);
      let dp;
      try {
        dp = await createDataParallel({
          model: work.spec,
          loss: 'sparseCategoricalCrossentropy',
          workers,
          mainThreadSlice,
          optimizer,
        });
      } catch (error) {
        console.log(
          `${workers} worker(s), main-thread slice ${mainThreadSlice}: not run — ${(error as Error).message}`,
        );
        optimizer.dispose();
        continue;
      }
      try {
        const stepMs = await timeSteps(() => dp.trainOnBatch(xs, ys), args);
        rows.push(row('data-parallel', workers, mainThreadSlice, stepMs, loadBefore));
      } finally {
        await dp.dispose();
        dp.model.dispose();
        optimizer.dispose();
      }
    }
  }
  tf.dispose([xs, ys]);
  const loadAtEnd = load();

  const reference = (rows[0] as Row).medianMsPerStep;
  const baseline = (rows[1] as Row).medianMsPerStep;
  console.log(
    formatTable(
      rows.map((r) => ({
        mode: r.mode,
        workers: r.mode.startsWith('single thread') ? '-' : r.workers,
        'main thread slice': r.mode.startsWith('single thread')
          ? '-'
          : r.mainThreadSlice
            ? 'yes'
            : 'no',
        slices: r.mode.startsWith('single thread') ? 1 : r.slices,
        'ms/step (median)': r.medianMsPerStep.toFixed(1),
        'ms/step (mean)': r.msPerStep.toFixed(1),
        'speed-up': `${(baseline / r.medianMsPerStep).toFixed(2)}×`,
        'vs SGD single thread': `${(r.medianMsPerStep / reference).toFixed(2)}×`,
        'load avg': r.loadAverage.map((l) => l.toFixed(2)).join(' → '),
      })),
    ),
  );
  console.log(
    `\n1-minute load average: ${loadAtStart.toFixed(2)} before, ${loadAtEnd.toFixed(2)} after`,
  );
  writeJson(args.out ?? `runs/bench/parallel-${args.model}-${args.optimizer}.json`, {
    benchmark: 'parallel',
    machine,
    model: args.model,
    batch: work.batch,
    optimizer: args.optimizer,
    steps: args.steps,
    warmup: args.warmup,
    loadAverage: [loadAtStart, loadAtEnd],
    results: rows.map((r) => ({
      ...r,
      speedup: baseline / r.medianMsPerStep,
      relativeToSgdSingleThread: r.medianMsPerStep / reference,
    })),
  });
}

await main();
