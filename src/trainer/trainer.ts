/**
 * The training loop behind the CLI, usable from code: seeded batches and augmentation, any
 * optimizer of the library through `model.trainOnBatch` (the path `fit` takes), a learning-rate
 * schedule per step, label smoothing, evaluation on validation and test data each epoch, a
 * checkpoint each epoch (and on request mid-epoch) that `resume` continues exactly.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { batchCount, exampleBatches } from '../data/batches.js';
import { examplesTask } from '../data/examples.js';
import type { Tokenizer } from '../data/text/tokenizer.js';
import { isModelAware, isSharpnessAware } from '../core/method.js';
import { getLearningRate, setLearningRate } from '../optimizers/registry.js';
import { chooseStepKind, type StepKind } from './step-kinds.js';
import { evaluate, type Evaluation } from './evaluate.js';
import {
  loadCheckpoint,
  readCheckpointJson,
  recoverCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
import { objectiveFor, type Objective } from './objective.js';
import {
  checkSettings,
  type EpochRecord,
  type Settings,
  type TrainerOptions,
  type TrainResult,
} from './options.js';
import { prepareBatch, type PreparedBatch } from './prepared-batch.js';

export { evaluate, type Evaluation };
export type {
  BatchProgress,
  EpochRecord,
  TrainerData,
  TrainerOptions,
  TrainResult,
} from './options.js';

/** The file of a checkpoint (and of a saved model) that holds its tokenizer. */
export const TOKENIZER_FILE = 'tokenizer.json';

interface TrainerState {
  version: 1;
  epoch: number;
  batchInEpoch: number;
  step: number;
  history: EpochRecord[];
  partial: { lossSum: number; accuracySum: number; samples: number; stepMs: number; steps: number };
}

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
