/** Runs every (optimizer, seed) pair of a command and writes its results.json and report. */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { batchCount, modelForData } from 'tfjs-sam/trainer';
import { isTextDatasetName } from 'tfjs-sam/text';
import type { ModelSpec } from 'tfjs-sam/parallel';
import {
  buildOptimizer,
  isPlainOptimizer,
  passesPerStep,
  type CommonHyperparameters,
  type OptimizerSpec,
} from 'tfjs-sam/toolkit';
import {
  aggregate,
  printSummary,
  renderReport,
  writeResults,
  type OptimizerResult,
  type ResultsFile,
} from './results.js';
import { parseAugment, type CommonFlags } from './flags.js';
import { folderName, runOne, type RunSpec, type RunSummary } from './run.js';
import { wasInterrupted } from './signals.js';
import { modelBuilder, type PreparedData } from './setup.js';

/** An optimizer of a command's matrix: its spec, hyperparameters and epochs. */
export interface PlannedOptimizer {
  spec: OptimizerSpec;
  common: CommonHyperparameters;
  epochs: number;
  extra?: Partial<OptimizerResult>;
}

/** The run of `planned` with `seed` under the command's flags, in `out/runs/<label>-seed<k>`. */
export function runSpecFor(
  flags: CommonFlags,
  out: string,
  data: PreparedData,
  planned: PlannedOptimizer,
  seed: number,
): RunSpec {
  const { spec, common, epochs } = planned;
  return {
    label: spec.label,
    seed,
    epochs,
    batchSize: flags.batchSize,
    learningRate: common.learningRate,
    schedule: flags.schedule,
    warmupEpochs: flags.warmupEpochs,
    labelSmoothing: flags.labelSmoothing,
    // Plain optimizers have no perturbation to split: they train as usual next to SAM.
    mSharpness: isPlainOptimizer(spec.name) ? 1 : flags.mSharpness,
    sharpnessEpochs: flags.sharpnessEpochs ?? null,
    accumulate: flags.accumulate,
    // The zoo spec modelBuilder builds, so that every worker builds the same model.
    dataParallel: flags.workers > 1 ? dataParallelModel(flags, data, seed) : null,
    augment: parseAugment(flags.augment),
    dir: join(out, 'runs', folderName(spec.label, seed)),
    resume: flags.resume,
    restart: flags.restart,
    progress: flags.progress,
    record: {
      label: spec.label,
      seed,
      dataSeed: flags.dataSeed,
      data: data.description,
      model: flags.model,
    },
  };
}

/** Trains `run` (a run of `planned`): the model of --model, the optimizer of the spec. */
export function trainRun(
  flags: CommonFlags,
  data: PreparedData,
  planned: PlannedOptimizer,
  run: RunSpec,
): Promise<RunSummary> {
  return runOne(run, data, modelBuilder(flags.model, data, run.seed), () =>
    buildOptimizer(planned.spec, withStepsPerEpoch(planned.common, data, flags)),
  );
}

/** Trains every (optimizer, seed) pair; returns one aggregated result per optimizer. */
export async function runMatrix(
  flags: CommonFlags,
  out: string,
  data: PreparedData,
  plan: PlannedOptimizer[],
  seeds: number[],
): Promise<OptimizerResult[]> {
  const results: OptimizerResult[] = [];
  for (const planned of plan) {
    const { spec, epochs, extra } = planned;
    const runs = [];
    for (const seed of seeds) {
      runs.push(await trainRun(flags, data, planned, runSpecFor(flags, out, data, planned, seed)));
      if (wasInterrupted())
        return [
          ...results,
          { ...aggregate(spec.label, passes(spec, data, flags), epochs, runs), ...extra },
        ];
    }
    results.push({ ...aggregate(spec.label, passes(spec, data, flags), epochs, runs), ...extra });
  }
  return results;
}

/** The zoo spec each data-parallel worker rebuilds; a language model cannot be split yet. */
function dataParallelModel(
  flags: CommonFlags,
  data: PreparedData,
  seed: number,
): { model: ModelSpec; replicas: number } {
  const spec = modelForData(flags.model, data.train, seed).spec;
  if (spec === null) {
    throw new Error(
      `--workers ${flags.workers}: data-parallel steps train classifiers only; the language model '${flags.model}' trains on one thread: use --workers 1.`,
    );
  }
  return { model: spec, replicas: flags.workers };
}

export function stepsPerEpoch(data: PreparedData, flags: CommonFlags): number {
  return batchCount(data.train.count, flags.batchSize * flags.accumulate);
}

function withStepsPerEpoch(
  common: CommonHyperparameters,
  data: PreparedData,
  flags: CommonFlags,
): CommonHyperparameters {
  return { ...common, stepsPerEpoch: stepsPerEpoch(data, flags) };
}

export function passes(spec: OptimizerSpec, data: PreparedData, flags: CommonFlags): number {
  return passesPerStep(spec, { stepsPerEpoch: stepsPerEpoch(data, flags) });
}

export async function finish(out: string, results: ResultsFile): Promise<void> {
  writeResults(out, results);
  printSummary(results);
  const report = await renderReport(out, results);
  console.log(`\nwrote ${join(out, 'results.json')} and ${report}`);
  if (wasInterrupted()) {
    console.log(
      `interrupted: checkpoints are in ${out}/runs; continue with the same command plus --resume --out ${out}`,
    );
    process.exitCode = 130;
  }
}

export function baseResults(
  kind: ResultsFile['kind'],
  flags: CommonFlags,
  backend: string,
  data: PreparedData,
): Omit<ResultsFile, 'optimizers'> {
  return {
    kind,
    command: commandLine(),
    date: new Date().toISOString(),
    machine: machine(),
    backend,
    data: data.description,
    dataSeed: flags.dataSeed,
    model: flags.model,
    settings: {
      dataSeed: flags.dataSeed,
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      lr: flags.lr,
      momentum: flags.momentum,
      weightDecay: flags.weightDecay,
      base: flags.base,
      rho: flags.rho ?? 'method default',
      schedule: flags.schedule,
      warmupEpochs: flags.warmupEpochs,
      labelSmoothing: flags.labelSmoothing,
      mSharpness: flags.mSharpness,
      accumulate: flags.accumulate,
      sharpnessEpochs:
        flags.sharpnessEpochs === undefined
          ? 'all'
          : `${flags.sharpnessEpochs.from ?? 1}:${flags.sharpnessEpochs.to ?? ''}`,
      workers: flags.workers,
      augment: flags.augment ?? 'none',
      ...(isTextDatasetName(flags.dataset)
        ? {
            tokenizer: data.tokenizer?.kind ?? flags.tokenizer,
            vocabSize: data.tokenizer?.vocabSize ?? flags.vocabSize,
            seqLen: flags.seqLen ?? 128,
          }
        : {}),
    },
  };
}

function commandLine(): string {
  return ['tfjs-sam', ...process.argv.slice(2)]
    .map((a) => (/[\s()]/.test(a) ? `'${a}'` : a))
    .join(' ');
}

function machine(): string {
  const cores = cpus();
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'cpu'}, node ${process.version}`;
}
