/**
 * The training loop behind the CLI, usable from code: seeded batches and augmentation, any
 * optimizer of the library through `model.trainOnBatch` (the path `fit` takes), a learning-rate
 * schedule per step, label smoothing, evaluation on validation and test data each epoch, a
 * checkpoint each epoch (and on request mid-epoch) that `resume` continues exactly.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchCount, batches } from '../data/batches.js';
import { createAugmenter, type AugmentOptions } from '../data/augment.js';
import { deriveSeed } from '../util/random.js';
import { imagesToTensor, labelsToTensor } from '../data/tensors.js';
import type { ImageDataset } from '../data/types.js';
import { checkNumber } from '../util/validate.js';
import { getLearningRate, setLearningRate } from '../optimizers/registry.js';
import type { LearningRateSchedule } from '../schedules/learning-rate.js';
import type { ModelSpec } from '../parallel/index.js';
import { chooseStepKind, type StepKind } from './step-kinds.js';
import { toModelInput } from './model-input.js';
import { loadCheckpoint, recoverCheckpoint, saveCheckpoint } from './checkpoint.js';

export interface TrainerData {
  /** Training images and (possibly noisy) labels. */
  train: ImageDataset;
  validation?: ImageDataset | null;
  /** Evaluated with its own (clean) labels. */
  test?: ImageDataset | null;
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
  const { model, state } = await openRun(options);
  const optimizer = model.optimizer as tf.Optimizer;
  const stepKind = await chooseStepKind(model, optimizer, {
    mSharpness: settings.mSharpness,
    dataParallel: options.dataParallel ?? null,
  });
  try {
    await options.onStart?.(state.history);
    return await trainLoop(options, settings, model, state, stepKind);
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
  if (mSharpness > batchSize) {
    throw new Error(
      `train: mSharpness is ${mSharpness}, more parts than the batch size ${batchSize}; use at most ${batchSize} parts.`,
    );
  }
  return { epochs, batchSize, seed, smoothing, mSharpness };
}

/** The model and the trainer's state: from the checkpoint when resuming, fresh otherwise. */
async function openRun(
  options: TrainerOptions,
): Promise<{ model: tfl.LayersModel; state: TrainerState }> {
  // Resuming where no checkpoint was ever completed starts afresh; a damaged one is an error.
  if (
    options.resume &&
    options.checkpointDir &&
    recoverCheckpoint(options.checkpointDir) !== 'none'
  ) {
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
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return {
    model,
    state: { version: 1, epoch: 0, batchInEpoch: 0, step: 0, history: [], partial: emptyPartial() },
  };
}

async function trainLoop(
  options: TrainerOptions,
  { epochs, batchSize, seed, smoothing }: Settings,
  model: tfl.LayersModel,
  state: TrainerState,
  stepKind: StepKind,
): Promise<TrainResult> {
  const trainSet = options.data.train;
  const perEpoch = batchCount(trainSet.count, batchSize);
  const optimizer = model.optimizer as tf.Optimizer;
  const started = performance.now();
  const secondsBefore = state.history.at(-1)?.seconds ?? 0;
  const checkpoint = async () => {
    if (options.checkpointDir) await saveCheckpoint(options.checkpointDir, model, state);
  };

  for (; state.epoch < epochs; state.epoch++) {
    let batchIndex = 0;
    for (const batch of batches(trainSet, { batchSize, shuffle: true, seed, epoch: state.epoch })) {
      if (batchIndex < state.batchInEpoch) {
        batch.dispose();
        batchIndex++;
        continue;
      }
      if (options.learningRate) setLearningRate(optimizer, options.learningRate(state.step));
      const inputs = options.augment
        ? createAugmenter({
            ...options.augment,
            seed: deriveSeed(seed, state.epoch * 1_000_003 + batchIndex),
          })(batch.xs)
        : batch.xs;
      const targets =
        smoothing > 0
          ? tf.tidy(() => tf.add(tf.mul(batch.ys, 1 - smoothing), smoothing / trainSet.classes))
          : batch.ys;
      const shaped = toModelInput(model, inputs);
      const stepStart = performance.now();
      const [loss, accuracy] = await stepKind.step(shaped, targets);
      const stepMs = performance.now() - stepStart;
      if (shaped !== inputs) shaped.dispose();
      if (inputs !== batch.xs) inputs.dispose();
      if (targets !== batch.ys) targets.dispose();
      batch.dispose();
      const partial = state.partial;
      partial.lossSum += loss * batch.indices.length;
      partial.accuracySum += accuracy * batch.indices.length;
      partial.samples += batch.indices.length;
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
    );
    state.history.push(record);
    state.batchInEpoch = 0;
    state.partial = emptyPartial();
    await options.onEpoch?.(record);
    state.epoch += 1;
    await checkpoint();
    state.epoch -= 1;
  }
  return { model, history: state.history, completed: true, steps: state.step };
}

/** The epoch's training figures, and the model's on validation and test data. */
function epochRecord(
  options: TrainerOptions,
  model: tfl.LayersModel,
  state: TrainerState,
  seconds: number,
): EpochRecord {
  const partial = state.partial;
  const validation = evaluate(model, options.data.validation, options.evaluationBatchSize);
  const test = evaluate(model, options.data.test, options.evaluationBatchSize);
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
    msPerStep: partial.stepMs / partial.steps,
    seconds,
  };
}

function emptyPartial(): TrainerState['partial'] {
  return { lossSum: 0, accuracySum: 0, samples: 0, stepMs: 0, steps: 0 };
}

/** Loss and accuracy of `model` on a whole dataset, in batches. */
export function evaluate(
  model: tfl.LayersModel,
  dataset: ImageDataset | null | undefined,
  batchSize = 500,
): { loss: number; accuracy: number } | null {
  if (dataset == null || dataset.count === 0) return null;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < dataset.count; start += batchSize) {
    const indices = Int32Array.from(
      { length: Math.min(batchSize, dataset.count - start) },
      (_, i) => start + i,
    );
    const [loss, hits] = tf.tidy(() => {
      const xs = imagesToTensor(dataset, indices);
      const labels = Int32Array.from(indices, (i) => dataset.labels[i] as number);
      const ys = labelsToTensor(labels, dataset.classes);
      const probabilities = model.predict(toModelInput(model, xs)) as tf.Tensor;
      const clipped = tf.clipByValue(probabilities, 1e-7, 1 - 1e-7);
      const total = tf.neg(tf.sum(tf.mul(ys, tf.log(clipped))));
      const matches = tf.sum(
        tf.cast(tf.equal(tf.argMax(probabilities, 1), tf.argMax(ys, 1)), 'float32'),
      );
      return [total.dataSync()[0] as number, matches.dataSync()[0] as number];
    });
    lossSum += loss;
    correct += hits;
  }
  return { loss: lossSum / dataset.count, accuracy: correct / dataset.count };
}
