/**
 * Milliseconds per data-parallel train step (src/parallel) against the single-thread
 * `model.trainOnBatch` step on the same batch, on the wasm backend with the training kernels.
 *   npm run bench:parallel -- --model mlp|cnn --optimizer sgd|sam --workers 1,2 --steps N
 *     [--warmup 1] [--out FILE (default runs/bench/parallel-<model>-<optimizer>.json; committed results are written with --out bench/results/…)]
 * Every worker count runs with and without a slice in the main thread. With SAM the data-parallel
 * step is m-sharpness with m = slices, the single-thread one m = 1: the same amount of work.
 * The machine may be shared: the 1-minute load average is recorded before and after each row.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend } from '../src/backend/select.js';
import { sam } from '../src/core/sam.js';
import { createDataParallel } from '../src/parallel/index.js';
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
const OPTIMIZERS = ['sgd', 'sam'] as const;
type BenchOptimizer = (typeof OPTIMIZERS)[number];

interface Args {
  model: ParallelModel;
  optimizer: BenchOptimizer;
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
    optimizer: choiceFlag('--optimizer', values.optimizer, OPTIMIZERS),
    workers: values.workers.split(',').map((count) => integerFlag('--workers', count, 1)),
    steps: integerFlag('--steps', values.steps, 1),
    warmup: integerFlag('--warmup', values.warmup, 0),
    ...(values.out === undefined ? {} : { out: values.out }),
  };
}

function makeOptimizer(kind: BenchOptimizer): tf.Optimizer {
  return kind === 'sam' ? sam(tf.train.sgd(0.01), { rho: 0.05 }) : tf.train.sgd(0.01);
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
  const single: tfl.LayersModel = buildWorkloadModel(work);
  const singleOptimizer = makeOptimizer(args.optimizer);
  single.compile({ optimizer: singleOptimizer, loss: 'sparseCategoricalCrossentropy' });
  rows.push(
    row(
      'single thread',
      0,
      true,
      await timeSteps(() => single.trainOnBatch(xs, ys), args),
      loadBefore,
    ),
  );
  single.dispose();
  singleOptimizer.dispose();

  for (const workers of args.workers) {
    for (const mainThreadSlice of [false, true]) {
      loadBefore = load();
      const optimizer = makeOptimizer(args.optimizer);
      const dp = await createDataParallel({
        model: work.spec,
        loss: 'sparseCategoricalCrossentropy',
        workers,
        mainThreadSlice,
        optimizer,
      });
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

  const baseline = (rows[0] as Row).medianMsPerStep;
  console.log(
    formatTable(
      rows.map((r) => ({
        mode: r.mode,
        workers: r.mode === 'single thread' ? '-' : r.workers,
        'main thread slice': r.mode === 'single thread' ? '-' : r.mainThreadSlice ? 'yes' : 'no',
        slices: r.mode === 'single thread' ? 1 : r.slices,
        'ms/step (median)': r.medianMsPerStep.toFixed(1),
        'ms/step (mean)': r.msPerStep.toFixed(1),
        'speed-up': `${(baseline / r.medianMsPerStep).toFixed(2)}×`,
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
    results: rows.map((r) => ({ ...r, speedup: baseline / r.medianMsPerStep })),
  });
}

await main();
