/** The trainer's options and results, and the checks that turn the options into settings. */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { AugmentOptions } from '../data/augment.js';
import { examplesTask, isImageDataset, type Examples } from '../data/examples.js';
import type { Tokenizer } from '../data/text/tokenizer.js';
import type { ModelSpec } from '../parallel/index.js';
import type { LearningRateSchedule } from '../schedules/learning-rate.js';
import { checkNumber } from '../util/validate.js';

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

const OWNER = 'train';

export interface Settings {
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

export function checkSettings(options: TrainerOptions): Settings {
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
