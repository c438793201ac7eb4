/** One training run of the CLI: progress on the terminal, a JSONL log, a checkpoint, a summary. */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelFileError } from 'tfjs-sam/node';
import {
  batchCount,
  CheckpointError,
  train,
  type EpochRecord,
  type TrainerData,
  type TrainerOptions,
} from 'tfjs-sam/trainer';
import type { AugmentOptions } from 'tfjs-sam/data';
import {
  constantSchedule,
  cosineSchedule,
  linearWarmup,
  stepSchedule,
  type LearningRateSchedule,
} from 'tfjs-sam';
import { checkAndWriteRunRecord, type RunRecord } from './run-record.js';
import { installInterruptHandler, wasInterrupted } from './signals.js';

export interface RunSpec {
  label: string;
  seed: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  schedule: 'constant' | 'cosine' | 'step';
  warmupEpochs: number;
  labelSmoothing: number;
  /** m-sharpness parts per batch (1: off). */
  mSharpness: number;
  /** Micro-batches per step (1: off). */
  accumulate?: number;
  /** The epochs with sharpness-aware steps (default: all). */
  sharpnessEpochs?: { from?: number; to?: number } | null;
  /** Data-parallel steps over worker threads (null: one thread). */
  dataParallel?: TrainerOptions['dataParallel'];
  augment: AugmentOptions | null;
  dir: string;
  resume: boolean;
  /** Discard the run folder (checkpoint and logs) and train from the start. */
  restart: boolean;
  /**
   * Stop (with a checkpoint) once this many of the `epochs` are done, the learning-rate schedule
   * still that of `epochs`: a tuner's round. Default: train all `epochs`.
   */
  stopAfterEpochs?: number;
  progress: boolean;
  /** What the run is trained on, kept in its folder's run.json and checked on --resume. */
  record: RunRecord;
}

export interface RunSummary {
  label: string;
  seed: number;
  /** Epochs run (fewer than `epochsPlanned` when interrupted). */
  epochs: number;
  epochsPlanned?: number;
  steps: number;
  completed: boolean;
  final: EpochRecord | null;
  msPerStep: number;
  seconds: number;
}

export function schedule(spec: RunSpec, stepsPerEpoch: number): LearningRateSchedule {
  const total = spec.epochs * stepsPerEpoch;
  const warmup = spec.warmupEpochs * stepsPerEpoch;
  const main =
    spec.schedule === 'cosine'
      ? cosineSchedule({ initial: spec.learningRate, totalSteps: Math.max(1, total - warmup) })
      : spec.schedule === 'step'
        ? stepSchedule({
            initial: spec.learningRate,
            stepSize: Math.max(1, Math.round((total - warmup) / 3)),
            gamma: 0.2,
          })
        : constantSchedule(spec.learningRate);
  return warmup > 0 ? linearWarmup(main, { steps: warmup, startFactor: 0.1 }) : main;
}

export async function runOne(
  spec: RunSpec,
  data: TrainerData,
  buildModel: () => tfl.LayersModel | Promise<tfl.LayersModel>,
  buildOptimizer: () => tf.Optimizer,
): Promise<RunSummary> {
  installInterruptHandler();
  if (spec.restart) rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(spec.dir, { recursive: true });
  checkAndWriteRunRecord(spec.dir, spec.record, spec.resume);
  const logPath = join(spec.dir, 'metrics.jsonl');
  const logLine = (record: EpochRecord) =>
    JSON.stringify({ label: spec.label, seed: spec.seed, ...record }) + '\n';
  const perEpoch = batchCount(data.train.count, spec.batchSize * (spec.accumulate ?? 1));
  const name = `${spec.label} seed ${spec.seed}`;
  const bar =
    spec.progress && process.stderr.isTTY
      ? new cliProgress.SingleBar(
          {
            format: `${name.padEnd(24)} |{bar}| epoch {epoch}/${spec.epochs} · {percentage}% · loss {loss} · acc {acc} · {ms} ms/step · {rate} ex/s · ETA {eta_formatted}`,
            hideCursor: true,
            etaBuffer: 50,
          },
          cliProgress.Presets.shades_classic,
        )
      : null;
  bar?.start(spec.epochs * perEpoch, 0, { epoch: 1, loss: '-', acc: '-', ms: '-', rate: '-' });
  const result = await train({
    data,
    buildModel,
    buildOptimizer,
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    seed: spec.seed,
    learningRate: schedule(spec, perEpoch),
    labelSmoothing: spec.labelSmoothing,
    mSharpness: spec.mSharpness,
    sharpnessEpochs: spec.sharpnessEpochs ?? null,
    accumulate: spec.accumulate ?? 1,
    dataParallel: spec.dataParallel ?? null,
    augment: spec.augment,
    checkpointDir: join(spec.dir, 'checkpoint'),
    resume: spec.resume,
    shouldStop: wasInterrupted,
    ...(spec.stopAfterEpochs === undefined ? {} : { stopAfterEpochs: spec.stopAfterEpochs }),
    // The log holds the epochs of the checkpoint the run starts from, nothing after it.
    onStart: (history) => writeFileSync(logPath, history.map(logLine).join('')),
    onBatch: (p) =>
      bar?.update(p.step, {
        epoch: p.epoch + 1,
        loss: p.loss.toFixed(3),
        acc: p.accuracy.toFixed(3),
        ms: p.msPerStep.toFixed(0),
        rate: ((spec.batchSize * 1000) / p.msPerStep).toFixed(0),
      }),
    onEpoch: (record) => {
      appendFileSync(logPath, logLine(record));
      if (bar === null && spec.progress) {
        const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(2)}%`);
        console.log(
          `${name} epoch ${record.epoch}/${spec.epochs}: train loss ${record.trainLoss.toFixed(4)} acc ${pct(record.trainAccuracy)}` +
            ` · val ${pct(record.validationAccuracy)} · test ${pct(record.testAccuracy)}` +
            (record.testPerplexity == null && record.validationPerplexity == null
              ? ''
              : ` · perplexity val ${record.validationPerplexity?.toFixed(2) ?? '-'} test ${record.testPerplexity?.toFixed(2) ?? '-'}`) +
            ` · ${record.msPerStep.toFixed(1)} ms/step`,
        );
      }
    },
  }).catch((error: unknown) => {
    bar?.stop();
    throw resumeHelp(error, spec);
  });
  bar?.stop();
  const final = result.history.at(-1) ?? null;
  const summary: RunSummary = {
    label: spec.label,
    seed: spec.seed,
    epochs: result.history.length,
    epochsPlanned: spec.epochs,
    steps: result.steps,
    completed: result.completed,
    final,
    msPerStep:
      result.history.length > 0
        ? result.history.reduce((s, r) => s + r.msPerStep, 0) / result.history.length
        : NaN,
    seconds: final?.seconds ?? 0,
  };
  writeFileSync(join(spec.dir, 'summary.json'), JSON.stringify(summary, null, 2));
  (result.model.optimizer as tf.Optimizer | undefined)?.dispose();
  result.model.dispose();
  return summary;
}

/** A checkpoint that cannot be resumed: the error, and how to start the run over instead. */
function resumeHelp(error: unknown, spec: RunSpec): unknown {
  if (!(error instanceof CheckpointError || error instanceof ModelFileError)) return error;
  return new Error(
    `${error.message}\nThe checkpoint of ${spec.label} seed ${spec.seed} cannot be resumed. To train ` +
      `this run from the start instead, run the same command with --restart in place of --resume ` +
      `(it discards ${spec.dir}).`,
  );
}

/** The epoch records of a run folder's JSONL log. */
export function readLog(dir: string): EpochRecord[] {
  const path = join(dir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as EpochRecord;
      } catch {
        throw new Error(`${path}:${i + 1} is not a JSON line.`);
      }
    });
}

export function folderName(label: string, seed: number): string {
  return `${label.replace(/[^a-z0-9.=-]+/gi, '_')}-seed${seed}`;
}
