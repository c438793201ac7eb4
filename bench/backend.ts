/**
 * Milliseconds per SGD train step (`model.trainOnBatch`) on the cpu, wasm (with the training
 * kernels of src/backend/wasm-kernels) and stock wasm backends.
 *   npm run bench:backend -- --model mlp --backend wasm --steps 5 [--warmup 1] [--json]
 *     [--out FILE (default runs/bench/backend-<model>-<backend>.json; committed results are written with --out bench/results/…)]
 * The machine is shared: every result records the 1-minute load average before and after it.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from '../src/backend/wasm-kernels/index.js';
import { parseArgs as parseCommandLine } from 'node:util';
import { choiceFlag, integerFlag, machineInfo, median, printHeader, writeJson } from './report.js';
import {
  BENCH_MODELS,
  TEXT_BENCH_MODELS,
  TEXT_WORKLOADS,
  WORKLOADS,
  buildWorkloadModel,
  workloadTargets,
  type BenchModel,
  type TextBenchModel,
} from './workloads.js';

const ALL_MODELS = [...BENCH_MODELS, ...TEXT_BENCH_MODELS] as const;
type AnyBenchModel = BenchModel | TextBenchModel;

/** The model, one batch of inputs and targets, and the batch size of a workload. */
function workload(model: AnyBenchModel) {
  if ((TEXT_BENCH_MODELS as readonly string[]).includes(model)) {
    const work = TEXT_WORKLOADS[model as TextBenchModel];
    return {
      net: work.build(),
      x: work.inputs(),
      y: work.targets(),
      batch: work.batch,
      loss: work.loss,
    };
  }
  const work = WORKLOADS[model as BenchModel];
  return {
    net: buildWorkloadModel(work),
    x: work.inputs(),
    y: workloadTargets(work),
    batch: work.batch,
    loss: undefined,
  };
}

const BENCH_BACKENDS = ['wasm', 'wasm-stock', 'cpu'] as const;
type BenchBackend = (typeof BENCH_BACKENDS)[number];

interface Args {
  models: AnyBenchModel[];
  backends: BenchBackend[];
  steps: number;
  warmup: number;
  json: boolean;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const { values } = parseCommandLine({
    args: argv,
    options: {
      model: { type: 'string' },
      backend: { type: 'string' },
      steps: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      out: { type: 'string' },
    },
  });
  return {
    models:
      values.model === undefined
        ? [...BENCH_MODELS]
        : [choiceFlag('--model', values.model, ALL_MODELS)],
    backends:
      values.backend === undefined
        ? [...BENCH_BACKENDS]
        : [choiceFlag('--backend', values.backend, BENCH_BACKENDS)],
    steps: integerFlag('--steps', values.steps, 1),
    warmup: integerFlag('--warmup', values.warmup, 0),
    json: values.json,
    ...(values.out === undefined ? {} : { out: values.out }),
  };
}

let undoKernels: (() => void) | undefined;

async function activate(backend: BenchBackend): Promise<void> {
  if (!(await tf.setBackend(backend === 'cpu' ? 'cpu' : 'wasm')))
    throw new Error(`backend ${backend} failed`);
  await tf.ready();
  if (backend === 'wasm' && undoKernels === undefined) undoKernels = registerWasmTrainingKernels();
  if (backend !== 'wasm' && undoKernels !== undefined) {
    undoKernels();
    undoKernels = undefined;
  }
}

interface Result {
  model: AnyBenchModel;
  backend: BenchBackend;
  batch: number;
  msPerStep: number | null;
  medianMsPerStep: number | null;
  steps: number;
  topKernels: string;
  /** 1-minute load average just before and just after the measurement. */
  loadAverage: [number, number];
  error?: string;
}

async function measure(model: AnyBenchModel, backend: BenchBackend, args: Args): Promise<Result> {
  await activate(backend);
  const { net, x, y, batch, loss } = workload(model);
  const optimizer = tf.train.sgd(0.01);
  net.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  // The compiled loss through trainOnBatch, or the workload's own loss through minimize.
  const trainStep = async () => {
    if (loss === undefined) await net.trainOnBatch(x, y);
    else optimizer.minimize(() => loss(net, x, y), true)?.dispose();
  };
  const base: Result = {
    model,
    backend,
    batch,
    msPerStep: null,
    medianMsPerStep: null,
    steps: args.steps,
    topKernels: '',
    loadAverage: [os.loadavg()[0] ?? NaN, NaN],
  };
  try {
    for (let i = 0; i < args.warmup; i++) await trainStep();
    const stepMs: number[] = [];
    for (let i = 0; i < args.steps; i++) {
      const start = performance.now();
      await trainStep();
      stepMs.push(performance.now() - start);
    }
    base.msPerStep = stepMs.reduce((a, b) => a + b, 0) / args.steps;
    base.medianMsPerStep = median(stepMs);
    const profile = await tf.profile(trainStep);
    const byKernel = new Map<string, number>();
    for (const k of profile.kernels) {
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      byKernel.set(k.name, (byKernel.get(k.name) ?? 0) + ms);
    }
    base.topKernels = [...byKernel.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([name, ms]) => `${name} ${ms.toFixed(0)}`)
      .join(', ');
  } catch (error) {
    base.error = error instanceof Error ? error.message.split('\n')[0] : String(error);
  } finally {
    tf.dispose([x, y]);
    net.dispose();
    base.loadAverage[1] = os.loadavg()[0] ?? NaN;
  }
  return base;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  if (!args.json) {
    printHeader('ms per training step, per backend', machine);
    console.log(
      `steps: ${args.steps} timed after ${args.warmup} warm-up; SGD via model.trainOnBatch`,
    );
  }
  const results: Result[] = [];
  for (const model of args.models) {
    for (const backend of args.backends) {
      const r = await measure(model, backend, args);
      results.push(r);
      if (args.json) {
        console.log(
          JSON.stringify({
            model: r.model,
            backend: r.backend,
            batch: r.batch,
            msPerStep: r.msPerStep,
            medianMsPerStep: r.medianMsPerStep,
            steps: r.steps,
            topKernels: r.topKernels,
            loadAverage: r.loadAverage,
          }),
        );
      } else {
        const ms =
          r.msPerStep === null
            ? `failed: ${r.error}`
            : `${r.msPerStep.toFixed(1)} ms/step (median ${r.medianMsPerStep?.toFixed(1)})`;
        console.log(
          `${model.padEnd(12)} ${backend.padEnd(11)} batch ${String(r.batch).padEnd(4)} ${ms}`,
        );
        if (r.topKernels) console.log(`  top kernels (ms): ${r.topKernels}`);
        console.log(`  load average: ${r.loadAverage.map((l) => l.toFixed(2)).join(' -> ')}`);
      }
    }
  }
  const out =
    args.out ?? `runs/bench/backend-${args.models.join('+')}-${args.backends.join('+')}.json`;
  writeJson(
    out,
    { benchmark: 'backend', machine, warmup: args.warmup, results },
    args.json ? console.error : console.log,
  );
}

await main();
