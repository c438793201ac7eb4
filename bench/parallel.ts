/**
 * Milliseconds per data-parallel train step (src/parallel) against the single-thread
 * `model.trainOnBatch` step on the same batch, on the wasm backend with the training kernels.
 *   npm run bench:parallel -- --model mlp|cnn --optimizer SPEC --workers 1,2 --steps N
 *     [--warmup 1] [--rounds R] [--peer torch [--peer-threads 1,2]] [--out FILE (default runs/bench/parallel-<model>-<optimizer>.json; committed results are written with --out bench/results/…)]
 * SPEC is any optimizer spec the CLI takes over SGD (sgd, sam, samon, sampa, …). Every worker count
 * runs with and without a slice in the main thread (a method that runs on two threads only, SAMPa,
 * prints why the others are not run). With SAM the data-parallel step is m-sharpness with m =
 * slices, the single-thread one m = 1: the same amount of work. SAMPa's single-thread step takes
 * its two gradients one after the other (the benchmark's batch standing for the previous one too),
 * its data-parallel step one per thread. Every run also times plain SGD on one thread, the
 * reference of the last column.
 * With --rounds R every row runs once per round, in turn, so a change in the machine's speed
 * touches all rows alike; the medians are over all rounds. --peer torch adds PyTorch's step
 * (bench/peer/torch_step.py: SGD, and SAM when SPEC is sharpness-aware) to every round, once per
 * torch.set_num_threads value of --peer-threads (default 2; OpenBLAS keeps its own pool of one
 * thread per core whatever that setting, unless OPENBLAS_NUM_THREADS says otherwise);
 * it needs a Python with torch (Debian: apt-get install python3-torch) and installs nothing.
 * The machine may be shared: the 1-minute load average is recorded before and after.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import * as tfl from '@tensorflow/tfjs-layers';
import type { PreviousBatchStepping } from '../src/core/method.js';
import { createDataParallel, type DataParallelTrainer } from '../src/parallel/index.js';
import { startTorchPeer, type TorchPeer } from './peer/torch.js';
import { capabilitiesOf } from '../src/toolkit/capabilities.js';
import {
  BASE_OPTIMIZERS,
  buildOptimizer,
  parseOptimizerSpec,
} from '../src/toolkit/optimizer-spec.js';
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
  rounds: number;
  peer: 'none' | 'torch';
  /** torch.set_num_threads of each PyTorch peer (its BLAS keeps its own thread pool). */
  peerThreads: number[];
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
      rounds: { type: 'string', default: '1' },
      peer: { type: 'string', default: 'none' },
      'peer-threads': { type: 'string', default: '2' },
      out: { type: 'string' },
    },
  });
  return {
    model: choiceFlag('--model', values.model, PARALLEL_MODELS),
    optimizer: values.optimizer,
    workers: values.workers.split(',').map((count) => integerFlag('--workers', count, 1)),
    steps: integerFlag('--steps', values.steps, 1),
    warmup: integerFlag('--warmup', values.warmup, 0),
    rounds: integerFlag('--rounds', values.rounds, 1),
    peer: choiceFlag('--peer', values.peer, ['none', 'torch'] as const),
    peerThreads: values['peer-threads']
      .split(',')
      .map((count) => integerFlag('--peer-threads', count, 1)),
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
  /** Every timed step over all rounds. */
  stepMs: number[];
  /** 1-minute load average before the first and after the last round. */
  loadAverage: [number, number];
}

/** A row's timer: `time()` runs warm-up and timed steps once (one round). */
interface Runner {
  mode: string;
  workers: number;
  mainThreadSlice: boolean;
  time: () => Promise<number[]>;
  dispose: () => Promise<void>;
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

async function singleThreadRunner(mode: string, spec: string, args: Args): Promise<Runner> {
  const work = WORKLOADS[args.model];
  const xs = work.inputs();
  const ys = workloadTargets(work);
  const model: tfl.LayersModel = buildWorkloadModel(work);
  const optimizer = makeOptimizer(spec);
  model.compile({ optimizer, loss: 'sparseCategoricalCrossentropy' });
  const step = singleStep(model, optimizer, xs, ys);
  return {
    mode,
    workers: 0,
    mainThreadSlice: true,
    time: () => timeSteps(step, args),
    dispose: async () => {
      model.dispose();
      optimizer.dispose();
      tf.dispose([xs, ys]);
    },
  };
}

async function dataParallelRunner(
  workers: number,
  mainThreadSlice: boolean,
  args: Args,
): Promise<Runner | null> {
  const work = WORKLOADS[args.model];
  const optimizer = makeOptimizer(args.optimizer);
  let dp: DataParallelTrainer;
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
    return null;
  }
  const xs = work.inputs();
  const ys = workloadTargets(work);
  return {
    mode: 'data-parallel',
    workers,
    mainThreadSlice,
    time: () => timeSteps(() => dp.trainOnBatch(xs, ys), args),
    dispose: async () => {
      await dp.dispose();
      dp.model.dispose();
      optimizer.dispose();
      tf.dispose([xs, ys]);
    },
  };
}

function torchRunner(peer: TorchPeer, args: Args): Runner {
  // PyTorch's peer of a sharpness-aware method is its SAM step; of a plain optimizer, SGD.
  const name = parseOptimizerSpec(args.optimizer).name;
  const method = (BASE_OPTIMIZERS as readonly string[]).includes(name) ? 'sgd' : 'sam';
  return {
    mode: `PyTorch ${peer.version}, ${method}, torch threads ${peer.threads}`,
    workers: 0,
    mainThreadSlice: true,
    time: () => peer.timeSteps(args.model, method, args.steps, args.warmup),
    dispose: async () => undefined,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const machine = machineInfo();
  printHeader('data-parallel train step (wasm backend with the training kernels)', machine);
  const loadAtStart = load();
  const peers: TorchPeer[] = [];
  if (args.peer === 'torch')
    for (const threads of args.peerThreads) peers.push(await startTorchPeer(threads));
  const peer = peers[0] ?? null;
  console.log(
    `model ${args.model}, batch ${WORKLOADS[args.model].batch}, optimizer ${args.optimizer}; ` +
      `${args.rounds} round(s) of ${args.steps} steps timed after ${args.warmup} warm-up, every row once per round` +
      (peer === null
        ? ''
        : `; PyTorch ${peer.version} (${peer.python}, torch.set_num_threads ${peers.map((p) => p.threads).join(' and ')}) interleaved`) +
      `; 1-minute load average ${loadAtStart.toFixed(2)}\n`,
  );
  await selectBackend({ prefer: 'wasm', log: () => undefined });

  const runners: Runner[] = [
    await singleThreadRunner('single thread, sgd (reference)', 'sgd', args),
    await singleThreadRunner('single thread', args.optimizer, args),
  ];
  for (const workers of args.workers) {
    for (const mainThreadSlice of [false, true]) {
      const runner = await dataParallelRunner(workers, mainThreadSlice, args);
      if (runner !== null) runners.push(runner);
    }
  }
  for (const torch of peers) {
    runners.push(torchRunner(torch, { ...args, optimizer: 'sgd' }));
    if (torchRunner(torch, args).mode !== runners.at(-1)?.mode)
      runners.push(torchRunner(torch, args));
  }
  const rows: Row[] = runners.map((r) => ({
    mode: r.mode,
    workers: r.workers,
    mainThreadSlice: r.mainThreadSlice,
    slices: r.workers + (r.mainThreadSlice ? 1 : 0),
    stepMs: [],
    loadAverage: [load(), NaN],
  }));
  try {
    for (let round = 0; round < args.rounds; round++) {
      for (const [i, runner] of runners.entries()) {
        (rows[i] as Row).stepMs.push(...(await runner.time()));
      }
    }
  } finally {
    for (const runner of runners) await runner.dispose();
    for (const torch of peers) torch.close();
  }
  const loadAtEnd = load();
  for (const r of rows) r.loadAverage[1] = loadAtEnd;

  const isSingle = (r: Row) => r.mode.startsWith('single thread') || r.mode.startsWith('PyTorch');
  const reference = median((rows[0] as Row).stepMs);
  const baseline = median((rows[1] as Row).stepMs);
  console.log(
    formatTable(
      rows.map((r) => ({
        mode: r.mode,
        workers: isSingle(r) ? '-' : r.workers,
        'main thread slice': isSingle(r) ? '-' : r.mainThreadSlice ? 'yes' : 'no',
        slices: isSingle(r) ? (r.mode.startsWith('PyTorch') ? '-' : 1) : r.slices,
        'ms/step (median)': median(r.stepMs).toFixed(1),
        'ms/step (mean)': mean(r.stepMs).toFixed(1),
        'speed-up': `${(baseline / median(r.stepMs)).toFixed(2)}×`,
        'vs SGD single thread': `${(median(r.stepMs) / reference).toFixed(2)}×`,
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
    batch: WORKLOADS[args.model].batch,
    optimizer: args.optimizer,
    steps: args.steps,
    warmup: args.warmup,
    rounds: args.rounds,
    ...(peer === null
      ? {}
      : {
          peer: {
            torch: peer.version,
            python: peer.python,
            threads: peers.map((p) => p.threads),
            blasThreads: process.env['OPENBLAS_NUM_THREADS'] ?? 'OpenBLAS default (one per core)',
          },
        }),
    loadAverage: [loadAtStart, loadAtEnd],
    results: rows.map((r) => ({
      ...r,
      medianMsPerStep: median(r.stepMs),
      msPerStep: mean(r.stepMs),
      speedup: baseline / median(r.stepMs),
      relativeToSgdSingleThread: median(r.stepMs) / reference,
    })),
  });
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

await main();
