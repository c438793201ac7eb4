/**
 * The training loop behind the CLI, usable from code: seeded batches and augmentation, any
 * optimizer of the library through `model.trainOnBatch` (the path `fit` takes), a learning-rate
 * schedule per step, label smoothing, evaluation on validation and test data each epoch, a
 * checkpoint each epoch (and on request mid-epoch) that `resume` continues exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchCount, exampleBatches, type ExampleBatch } from '../data/batches.js';
import { createAugmenter, type AugmentOptions } from '../data/augment.js';
import { deriveSeed } from '../util/random.js';
import { examplesTask, isImageDataset, outputClasses, type Examples } from '../data/examples.js';
import type { Tokenizer } from '../data/text/tokenizer.js';
import { checkNumber } from '../util/validate.js';
import { isModelAware, isSharpnessAware } from '../core/method.js';
import { getLearningRate, setLearningRate } from '../optimizers/registry.js';
import type { LearningRateSchedule } from '../schedules/learning-rate.js';
import type { ModelSpec } from '../parallel/index.js';
import { chooseStepKind, type StepKind } from './step-kinds.js';
import { evaluate, type Evaluation } from './evaluate.js';
import { toModelInput } from './model-input.js';
import {
  loadCheckpoint,
  readCheckpointJson,
  recoverCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
import { objectiveFor, type Objective } from './objective.js';

export { evaluate, type Evaluation };

/** The file of a checkpoint (and of a saved model) that holds its tokenizer. */
export const TOKENIZER_FILE = 'tokenizer.json';

export interface TrainerData {
  /**
   * Training examples: images or token sequences with (possibly noisy) labels, or next-token
   * windows (then the model is a language model, trained on the mean token cross-entropy).
   */
  train: Examples;
  validation?: Examples | null;
  /** Evaluated with its own (clean) labels. */
  test?: Examples | null;
  /** The tokenizer of token data: saved with every checkpoint (`tokenizer.json`), checked on resume. */
  tokenizer?: Tokenizer | null;
}

export interface EpochRecord {
  epoch: number;
  /** Optimizer steps taken so far. */
  step: number;
  learningRate: number;
  trainLoss: number;
  trainAccuracy: number;
  validationLoss: number | null;
  validationAccuracy: number | null;
  testLoss: number | null;
  testAccuracy: number | null;
  /** Language models: exp of the mean token loss (train: over the epoch's steps); null otherwise. */
  trainPerplexity?: number | null;
  validationPerplexity?: number | null;
  testPerplexity?: number | null;
  /** Mean wall time of this epoch's optimizer steps. */
  msPerStep: number;
  /** Wall time since the run started (excluding time before a resume). */
  seconds: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batchesPerEpoch: number;
  step: number;
  loss: number;
  accuracy: number;
  msPerStep: number;
}

export interface TrainerOptions {
  data: TrainerData;
  /**
   * A compiled-ready model (uncompiled; the trainer compiles it). Seed its initializers. It may be
   * async (a model read from files). Its input may be any shape of the samples' size.
   */
  buildModel: () => tfl.LayersModel | Promise<tfl.LayersModel>;
  buildOptimizer: () => tf.Optimizer;
  epochs: number;
  batchSize: number;
  seed: number;
  /** Learning rate per optimizer step; the optimizer's own rate when absent. */
  learningRate?: LearningRateSchedule | null;
  /**
   * m-sharpness (Foret et al. 2021 §4.1): split every batch into this many parts, one
   * perturbation per part, mean of the parts' gradients (`SAM.stepMSharpness`). Default 1 (off).
   */
  mSharpness?: number;
  /**
   * Gradient accumulation: each step takes `accumulate` micro-batches of `batchSize` examples
   * (an effective batch of accumulate × batchSize), their gradients accumulated into one step
   * (`stepAccumulated`; a plain optimizer applies the accumulated gradient). Default 1 (off).
   */
  accumulate?: number;
  /**
   * The epochs (1-based, inclusive) whose steps are sharpness-aware; the others are the base
   * optimizer's (ρ = 0), for any method of the family. Default: every epoch.
   */
  sharpnessEpochs?: { from?: number; to?: number } | null;
  /**
   * Data-parallel steps over worker threads (src/parallel): each batch is cut into `replicas`
   * slices, one per thread (the main thread computes one when it trains on wasm). `model` is the
   * zoo spec `buildModel` builds. For SAM/ASAM/SAM-ON this is m-sharpness with m = replicas.
   */
  dataParallel?: { model: ModelSpec; replicas: number } | null;
  /** Targets become (1 − ε)·one-hot + ε/K (Szegedy et al. 2016). Default 0. */
  labelSmoothing?: number;
  augment?: AugmentOptions | null;
  evaluationBatchSize?: number;
  /** Folder for the checkpoint (written after every epoch). */
  checkpointDir?: string | null;
  /** Continue from `checkpointDir` when a checkpoint is there. */
  resume?: boolean;
  /**
   * Called once before the first step with the epochs the run starts from: the history of the
   * checkpoint it resumes, or none. A caller that keeps its own per-epoch log rewrites it from
   * these, so that epochs run after the last checkpoint (and so run again) are not logged twice.
   */
  onStart?: (history: readonly EpochRecord[]) => void | Promise<void>;
  onEpoch?: (record: EpochRecord) => void | Promise<void>;
  onBatch?: (progress: BatchProgress) => void;
  /** Polled after every step; true stops the run after writing a checkpoint (Ctrl-C). */
  shouldStop?: () => boolean;
  /**
   * Stop, with a checkpoint, at the end of this epoch (1-based) of the `epochs`, the learning-rate
   * schedule still that of all `epochs`: a tuner trains a candidate a few epochs at a time, and a
   * resumed run goes on from there. Default: train all `epochs`.
   */
  stopAfterEpochs?: number;
}

export interface TrainResult {
  model: tfl.LayersModel;
  history: EpochRecord[];
  /** False when `shouldStop` ended the run early. */
  completed: boolean;
  steps: number;
}

interface TrainerState {
  version: 1;
  epoch: number;
  batchInEpoch: number;
  step: number;
  history: EpochRecord[];
  partial: { lossSum: number; accuracySum: number; samples: number; stepMs: number; steps: number };
}

const OWNER = 'train';

export async function train(options: TrainerOptions): Promise<TrainResult> {
  const settings = checkSettings(options);
  const objective = objectiveFor(examplesTask(options.data.train));
  const { model, state } = await openRun(options, objective);
  const optimizer = model.optimizer as tf.Optimizer;
  if (isModelAware(optimizer)) optimizer.useModel(model);
  const stepKind = await chooseStepKind(model, optimizer, {
    mSharpness: settings.mSharpness,
    dataParallel: options.dataParallel ?? null,
    accumulate: settings.accumulate,
    objective,
  });
  try {
    await options.onStart?.(state.history);
    return await trainLoop(options, settings, model, state, stepKind, objective);
  } finally {
    await stepKind.dispose();
  }
}

interface Settings {
  epochs: number;
  batchSize: number;
  seed: number;
  smoothing: number;
  mSharpness: number;
  /** Micro-batches per step (the step's batch is accumulate × batchSize). */
  accumulate: number;
  /** Whether the steps of epoch `epoch` (0-based) are sharpness-aware. */
  sharpEpoch: (epoch: number) => boolean;
}

function checkSettings(options: TrainerOptions): Settings {
  const epochs = checkNumber(OWNER, 'epochs', options.epochs, { min: 1, integer: true });
  const batchSize = checkNumber(OWNER, 'batchSize', options.batchSize, { min: 1, integer: true });
  const seed = checkNumber(OWNER, 'seed', options.seed, { integer: true });
  const smoothing = checkNumber(OWNER, 'labelSmoothing', options.labelSmoothing ?? 0, {
    min: 0,
    max: 1,
    maxInclusive: false,
  });
  const mSharpness = checkNumber(OWNER, 'mSharpness', options.mSharpness ?? 1, {
    min: 1,
    integer: true,
  });
  if (options.stopAfterEpochs !== undefined) {
    checkNumber(OWNER, 'stopAfterEpochs', options.stopAfterEpochs, {
      min: 1,
      max: epochs,
      integer: true,
    });
  }
  const task = examplesTask(options.data.train);
  if (smoothing > 0 && task === 'next-token') {
    throw new Error(
      `train: labelSmoothing is ${smoothing}, but the data are next-token windows (a language model); label smoothing applies to classification: leave it at 0.`,
    );
  }
  if (options.augment && !isImageDataset(options.data.train)) {
    throw new Error(
      'train: augment (crop, flip, cutout) applies to images, but the training data are token sequences; leave augment out.',
    );
  }
  if (mSharpness > batchSize) {
    throw new Error(
      `train: mSharpness is ${mSharpness}, more parts than the batch size ${batchSize}; use at most ${batchSize} parts.`,
    );
  }
  const window = options.sharpnessEpochs ?? {};
  const from = checkNumber(OWNER, 'sharpnessEpochs.from', window.from ?? 1, {
    min: 1,
    integer: true,
  });
  const to =
    window.to === undefined
      ? Infinity
      : checkNumber(OWNER, 'sharpnessEpochs.to', window.to, { min: from, integer: true });
  const sharpEpoch = (epoch: number) => epoch + 1 >= from && epoch + 1 <= to;
  const accumulate = checkNumber(OWNER, 'accumulate', options.accumulate ?? 1, {
    min: 1,
    integer: true,
  });
  return { epochs, batchSize, seed, smoothing, mSharpness, accumulate, sharpEpoch };
}

/** The model and the trainer's state: from the checkpoint when resuming, fresh otherwise. */
async function openRun(
  options: TrainerOptions,
  objective: Objective,
): Promise<{ model: tfl.LayersModel; state: TrainerState }> {
  // Resuming where no checkpoint was ever completed starts afresh; a damaged one is an error.
  if (
    options.resume &&
    options.checkpointDir &&
    recoverCheckpoint(options.checkpointDir) !== 'none'
  ) {
    checkSameTokenizer(options.checkpointDir, options.data.tokenizer ?? null);
    const loaded = await loadCheckpoint<TrainerState>(options.checkpointDir);
    if (loaded.state.version !== 1) {
      throw new Error(
        `checkpoint state version ${loaded.state.version} is not supported by this version.`,
      );
    }
    return loaded;
  }
  const model = await options.buildModel();
  model.compile({
    optimizer: options.buildOptimizer(),
    loss: objective.compiledLoss,
    metrics: ['accuracy'],
  });
  return {
    model,
    state: { version: 1, epoch: 0, batchInEpoch: 0, step: 0, history: [], partial: emptyPartial() },
  };
}

async function trainLoop(
  options: TrainerOptions,
  settings: Settings,
  model: tfl.LayersModel,
  state: TrainerState,
  stepKind: StepKind,
  objective: Objective,
): Promise<TrainResult> {
  const { epochs, seed, sharpEpoch } = settings;
  // A step's batch: accumulate micro-batches of batchSize.
  const batchSize = settings.batchSize * settings.accumulate;
  const trainSet = options.data.train;
  const perEpoch = batchCount(trainSet.count, batchSize);
  const optimizer = model.optimizer as tf.Optimizer;
  const started = performance.now();
  const secondsBefore = state.history.at(-1)?.seconds ?? 0;
  const extraFiles =
    options.data.tokenizer == null
      ? undefined
      : { [TOKENIZER_FILE]: options.data.tokenizer.toJSON() };
  const checkpoint = async () => {
    if (options.checkpointDir) {
      await saveCheckpoint(options.checkpointDir, model, state, extraFiles);
    }
  };
  const epochBatches = (epoch: number) =>
    exampleBatches(trainSet, { batchSize, shuffle: true, seed, epoch });
  const stopAfter = options.stopAfterEpochs ?? epochs;
  if (state.epoch >= stopAfter && state.batchInEpoch === 0 && state.epoch < epochs) {
    return { model, history: state.history, completed: false, steps: state.step };
  }
  // A step kind that takes the previous batch too (SAMPa) gets it, rebuilt after a resume.
  let previous: PreparedBatch | null = null;
  try {
    if (stepKind.needsPrevious && state.batchInEpoch === 0 && state.epoch > 0) {
      let last: PreparedBatch | null = null;
      let index = 0;
      for (const batch of epochBatches(state.epoch - 1)) {
        last?.dispose();
        last = prepareBatch(options, settings, model, batch, state.epoch - 1, index++);
      }
      previous = last;
    }
    for (; state.epoch < epochs; state.epoch++) {
      if (isSharpnessAware(optimizer)) optimizer.sharpnessSuspended = !sharpEpoch(state.epoch);
      let batchIndex = 0;
      for (const batch of epochBatches(state.epoch)) {
        if (batchIndex < state.batchInEpoch) {
          if (stepKind.needsPrevious && batchIndex === state.batchInEpoch - 1) {
            previous?.dispose();
            previous = prepareBatch(options, settings, model, batch, state.epoch, batchIndex);
          } else batch.dispose();
          batchIndex++;
          continue;
        }
        if (options.learningRate) setLearningRate(optimizer, options.learningRate(state.step));
        const current = prepareBatch(options, settings, model, batch, state.epoch, batchIndex);
        const stepStart = performance.now();
        const [loss, accuracy] = await stepKind.step(current.inputs, current.targets, previous);
        const stepMs = performance.now() - stepStart;
        if (stepKind.needsPrevious) {
          previous?.dispose();
          previous = current;
        } else current.dispose();
        const partial = state.partial;
        partial.lossSum += loss * current.size;
        partial.accuracySum += accuracy * current.size;
        partial.samples += current.size;
        partial.stepMs += stepMs;
        partial.steps += 1;
        state.step += 1;
        batchIndex += 1;
        state.batchInEpoch = batchIndex;
        options.onBatch?.({
          epoch: state.epoch,
          batch: batchIndex,
          batchesPerEpoch: perEpoch,
          step: state.step,
          loss,
          accuracy,
          msPerStep: partial.stepMs / partial.steps,
        });
        // A macrotask turn per step: without it the step loop only yields to microtasks, and
        // signal handlers (Ctrl-C → shouldStop) and timers would never run during an epoch.
        await new Promise((resolve) => setImmediate(resolve));
        if (options.shouldStop?.()) {
          await checkpoint();
          return { model, history: state.history, completed: false, steps: state.step };
        }
      }
      const record = epochRecord(
        options,
        model,
        state,
        secondsBefore + (performance.now() - started) / 1000,
        objective,
      );
      state.history.push(record);
      state.batchInEpoch = 0;
      state.partial = emptyPartial();
      await options.onEpoch?.(record);
      state.epoch += 1;
      await checkpoint();
      if (state.epoch < epochs && state.epoch >= stopAfter) {
        return { model, history: state.history, completed: false, steps: state.step };
      }
      state.epoch -= 1;
    }
  } finally {
    (previous as PreparedBatch | null)?.dispose();
  }
  return { model, history: state.history, completed: true, steps: state.step };
}

/** A batch as the step sees it: augmented (seeded by its place) and with smoothed targets. */
interface PreparedBatch {
  inputs: tf.Tensor;
  targets: tf.Tensor;
  size: number;
  dispose(): void;
}

function prepareBatch(
  options: TrainerOptions,
  { seed, smoothing }: Settings,
  model: tfl.LayersModel,
  batch: ExampleBatch,
  epoch: number,
  batchIndex: number,
): PreparedBatch {
  const augmented = options.augment
    ? createAugmenter({
        ...options.augment,
        seed: deriveSeed(seed, epoch * 1_000_003 + batchIndex),
      })(batch.xs as tf.Tensor4D)
    : batch.xs;
  const inputs = toModelInput(model, augmented);
  const classes = outputClasses(options.data.train);
  const targets =
    smoothing > 0
      ? tf.tidy(() => tf.add(tf.mul(batch.ys, 1 - smoothing), smoothing / classes))
      : batch.ys;
  return {
    inputs,
    targets,
    size: batch.indices.length,
    dispose: () => {
      if (inputs !== augmented) inputs.dispose();
      if (augmented !== batch.xs) augmented.dispose();
      if (targets !== batch.ys) targets.dispose();
      batch.dispose();
    },
  };
}

/** The epoch's training figures, and the model's on validation and test data. */
function epochRecord(
  options: TrainerOptions,
  model: tfl.LayersModel,
  state: TrainerState,
  seconds: number,
  objective: Objective,
): EpochRecord {
  const partial = state.partial;
  const validation = evaluate(model, options.data.validation, options.evaluationBatchSize);
  const test = evaluate(model, options.data.test, options.evaluationBatchSize);
  const perplexity = objective.perplexity
    ? {
        trainPerplexity: Math.exp(partial.lossSum / partial.samples),
        validationPerplexity: validation?.perplexity ?? null,
        testPerplexity: test?.perplexity ?? null,
      }
    : {};
  return {
    epoch: state.epoch + 1,
    step: state.step,
    learningRate: getLearningRate(model.optimizer as tf.Optimizer),
    trainLoss: partial.lossSum / partial.samples,
    trainAccuracy: partial.accuracySum / partial.samples,
    validationLoss: validation?.loss ?? null,
    validationAccuracy: validation?.accuracy ?? null,
    testLoss: test?.loss ?? null,
    testAccuracy: test?.accuracy ?? null,
    ...perplexity,
    msPerStep: partial.stepMs / partial.steps,
    seconds,
  };
}

function emptyPartial(): TrainerState['partial'] {
  return { lossSum: 0, accuracySum: 0, samples: 0, stepMs: 0, steps: 0 };
}

/** Refuses to resume with a tokenizer other than the checkpoint's (the ids would mean other tokens). */
function checkSameTokenizer(dir: string, tokenizer: Tokenizer | null): void {
  const saved = readCheckpointJson(dir, TOKENIZER_FILE);
  const current = tokenizer === null ? undefined : tokenizer.toJSON();
  if (JSON.stringify(saved) !== JSON.stringify(current)) {
    throw new Error(
      `cannot resume from '${dir}': its ${TOKENIZER_FILE} ${saved === undefined ? 'is missing' : 'differs from the tokenizer fitted on this data'}` +
        `${current === undefined ? ' (this run has no tokenizer)' : ''}; resume with the same data flags as the run (--dataset, --vocab-size, --seq-len, --tokenizer, --train-subset, seed), or start without --resume.`,
    );
  }
}
