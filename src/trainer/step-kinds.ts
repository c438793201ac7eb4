/**
 * How the trainer runs one optimizer step on a batch, chosen once per run from the optimizer's
 * capabilities and the run's settings: the plain `trainOnBatch` step, m-sharpness parts, ESAM-like
 * data selection on per-example losses, a step on this batch and the previous one (SAMPa), or
 * data-parallel slices over worker threads. Each returns [loss, accuracy], the values
 * `trainOnBatch` reports.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { accumulatingSource } from '../core/accumulation.js';
import type {
  AccumulatedStepping,
  DataSelecting,
  MSharpnessStepping,
  PerExampleLoss,
  PreviousBatchStepping,
} from '../core/method.js';
import { createDataParallel, type ModelSpec } from '../parallel/index.js';
import { capabilitiesOf, checkStepPlan } from '../toolkit/capabilities.js';
import { checkNumber } from '../util/validate.js';
import { objectiveFor, type Objective } from './objective.js';

/** A batch's inputs and targets. */
export interface BatchTensors {
  inputs: tf.Tensor;
  targets: tf.Tensor;
}

export interface StepKind {
  readonly name:
    'plain' | 'm-sharpness' | 'accumulated' | 'data selection' | 'previous batch' | 'data-parallel';
  /** Whether `step` takes the previous batch too (the trainer then keeps it one step longer). */
  readonly needsPrevious: boolean;
  /** One step on a batch (and the previous one, null at the first); returns [loss, accuracy]. */
  step(
    inputs: tf.Tensor,
    targets: tf.Tensor,
    previous?: BatchTensors | null,
  ): Promise<[number, number]>;
  /** Frees what the kind holds (the workers of a data-parallel run). */
  dispose(): Promise<void>;
}

export interface StepKindRequest {
  /** Parts per batch, one perturbation each (1: off). */
  mSharpness: number;
  /** Data-parallel replicas of the zoo model `model` (null or 1 replica: off). */
  dataParallel: { model: ModelSpec; replicas: number } | null;
  /** Micro-batches per step, their gradients accumulated into one (1: off). */
  accumulate?: number;
  /** The loss and accuracy of the custom steps (default: classification). */
  objective?: Objective;
}

/** The step kind for `optimizer` under `request`; refuses what the optimizer cannot split. */
export async function chooseStepKind(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  request: StepKindRequest,
): Promise<StepKind> {
  const replicas =
    request.dataParallel == null
      ? 1
      : checkNumber('train', 'dataParallel.replicas', request.dataParallel.replicas, {
          min: 1,
          integer: true,
        });
  const accumulate = request.accumulate ?? 1;
  checkStepPlan(
    optimizer,
    { mSharpness: request.mSharpness, workers: replicas, accumulate },
    {
      mSharpness: 'mSharpness',
      workers: 'dataParallel',
      accumulate: 'accumulate',
      subject: optimizer.getClassName(),
      style: 'options',
    },
    'train',
  );
  const objective = request.objective ?? objectiveFor('classification');
  if (request.dataParallel != null && replicas > 1) {
    if (objective.task !== 'classification') {
      throw new Error(
        `train: data-parallel steps (dataParallel, --workers ${replicas}) train classifiers only; a language model (next-token windows) trains on one thread: use --workers 1.`,
      );
    }
    return dataParallelStep(model, optimizer, request.dataParallel.model, replicas);
  }
  if (accumulate > 1) return accumulatedStep(model, optimizer, accumulate, objective);
  if (request.mSharpness > 1) {
    return mSharpnessStep(
      model,
      optimizer as tf.Optimizer & MSharpnessStepping,
      request.mSharpness,
      objective,
    );
  }
  const capabilities = capabilitiesOf(optimizer);
  if (capabilities?.dataSelection === true) {
    return dataSelectionStep(model, optimizer as tf.Optimizer & DataSelecting, objective);
  }
  if (capabilities?.previousBatch === true) {
    return previousBatchStep(model, optimizer as tf.Optimizer & PreviousBatchStepping, objective);
  }
  return objective.trainsOnCompiledLoss
    ? plainStep(model)
    : minimizeStep(model, optimizer, objective);
}

/** `model.trainOnBatch`, the path `model.fit` takes. */
function plainStep(model: tfl.LayersModel): StepKind {
  return {
    name: 'plain',
    needsPrevious: false,
    step: async (inputs, targets) =>
      (await model.trainOnBatch(inputs, targets)) as [number, number],
    dispose: async () => undefined,
  };
}

/** `optimizer.minimize` on the objective's loss, for objectives the compiled loss cannot express. */
function minimizeStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  objective: Objective,
): StepKind {
  return {
    name: 'plain',
    needsPrevious: false,
    dispose: async () => undefined,
    step: async (inputs, targets) => {
      let accuracy: tf.Scalar | null = null;
      const loss = optimizer.minimize(
        () => {
          const output = model.apply(inputs, { training: true }) as tf.Tensor;
          if (accuracy === null) accuracy = tf.keep(objective.accuracy(targets, output));
          return objective.loss(targets, output);
        },
        true,
        trainableVariables(model),
      ) as tf.Scalar;
      try {
        return [loss.dataSync()[0] as number, (accuracy as tf.Scalar | null)?.dataSync()[0] ?? NaN];
      } finally {
        tf.dispose([loss, ...(accuracy === null ? [] : [accuracy])]);
      }
    },
  };
}

function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/** `parts` contiguous parts of a batch: inputs, targets and size. */
function partsOf(inputs: tf.Tensor, targets: tf.Tensor, parts: number) {
  const rows = inputs.shape[0] as number;
  const bounds = Array.from({ length: parts + 1 }, (_, j) => Math.round((j * rows) / parts));
  return bounds
    .slice(0, -1)
    .map((start, j) => ({ start, size: (bounds[j + 1] as number) - start }))
    .filter(({ size }) => size > 0)
    .map(({ start, size }) => ({
      xs: tf.slice(inputs, start, size),
      ys: tf.slice(targets, start, size),
      size,
    }));
}

/**
 * Gradient accumulation over `parts` micro-batches of each batch: the method's
 * `stepAccumulated`, or, for a plain optimizer, the accumulated gradient applied as is.
 */
function accumulatedStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  parts: number,
  objective: Objective,
): StepKind {
  return {
    name: 'accumulated',
    needsPrevious: false,
    dispose: async () => undefined,
    step: async (inputs, targets) => {
      const slices = partsOf(inputs, targets, parts);
      const accuracies: Array<{ value: tf.Scalar; size: number }> = [];
      const lossFns = slices.map(({ xs, ys, size }) => {
        let calls = 0;
        return {
          size,
          loss: () => {
            const output = model.apply(xs, { training: true }) as tf.Tensor;
            if (calls++ === 0) {
              accuracies.push({ value: tf.keep(objective.accuracy(ys, output)), size });
            }
            return objective.loss(ys, output);
          },
        };
      });
      const variables = trainableVariables(model);
      try {
        let loss: tf.Scalar;
        if (capabilitiesOf(optimizer) === null) {
          const source = accumulatingSource('train', lossFns, (fn, vs) => tf.variableGrads(fn, vs));
          const pass = source.gradients(variables, false);
          optimizer.applyGradients(pass.grads);
          tf.dispose(Object.values(pass.grads));
          loss = pass.value;
        } else {
          loss = (optimizer as tf.Optimizer & AccumulatedStepping).stepAccumulated(
            lossFns,
            variables,
          );
        }
        const value = loss.dataSync()[0] as number;
        loss.dispose();
        const rows = slices.reduce((sum, s) => sum + s.size, 0);
        const accuracy =
          accuracies.reduce((sum, a) => sum + (a.value.dataSync()[0] as number) * a.size, 0) / rows;
        return [value, accuracy];
      } finally {
        tf.dispose([...accuracies.map((a) => a.value), ...slices.flatMap((s) => [s.xs, s.ys])]);
      }
    },
  };
}

/** m-sharpness (`stepMSharpness`) on `parts` contiguous parts of each batch. */
function mSharpnessStep(
  model: tfl.LayersModel,
  optimizer: MSharpnessStepping,
  parts: number,
  objective: Objective,
): StepKind {
  return {
    name: 'm-sharpness',
    needsPrevious: false,
    dispose: async () => undefined,
    step: async (inputs, targets) => {
      const rows = inputs.shape[0] as number;
      const slices = partsOf(inputs, targets, parts);
      const accuracies: tf.Scalar[] = [];
      const lossFns = slices.map(({ xs, ys }) => {
        let calls = 0;
        return () => {
          const output = model.apply(xs, { training: true }) as tf.Tensor;
          if (calls++ === 0) {
            accuracies.push(tf.keep(objective.accuracy(ys, output)));
          }
          return objective.loss(ys, output);
        };
      });
      try {
        const loss = optimizer.stepMSharpness(lossFns, trainableVariables(model));
        const value = loss.dataSync()[0] as number;
        loss.dispose();
        const accuracy =
          accuracies.reduce(
            (sum, a, j) => sum + (a.dataSync()[0] as number) * (slices[j] as { size: number }).size,
            0,
          ) / rows;
        return [value, accuracy];
      } finally {
        tf.dispose([...accuracies, ...slices.flatMap((s) => [s.xs, s.ys])]);
      }
    },
  };
}

/** A data-selecting step (`stepWithDataSelection`) on the compiled loss per example. */
function dataSelectionStep(
  model: tfl.LayersModel,
  optimizer: DataSelecting,
  objective: Objective,
): StepKind {
  return {
    name: 'data selection',
    needsPrevious: false,
    dispose: async () => undefined,
    step: async (inputs, targets) => {
      let accuracy: tf.Scalar | null = null;
      const perExampleLoss: PerExampleLoss = (indices) => {
        const xs = indices === null ? inputs : tf.gather(inputs, indices);
        const ys = indices === null ? targets : tf.gather(targets, indices);
        const output = model.apply(xs, { training: true }) as tf.Tensor;
        if (accuracy === null) {
          accuracy = tf.keep(objective.accuracy(ys, output));
        }
        return objective.perExampleLoss(ys, output);
      };
      const loss = optimizer.stepWithDataSelection(perExampleLoss, trainableVariables(model));
      try {
        return [loss.dataSync()[0] as number, (accuracy as tf.Scalar | null)?.dataSync()[0] ?? NaN];
      } finally {
        tf.dispose([loss, ...(accuracy === null ? [] : [accuracy])]);
      }
    },
  };
}

/** This batch's loss and the previous batch's (SAMPa's `stepWithPrevious`). */
function previousBatchStep(
  model: tfl.LayersModel,
  optimizer: PreviousBatchStepping,
  objective: Objective,
): StepKind {
  return {
    name: 'previous batch',
    needsPrevious: true,
    dispose: async () => undefined,
    step: async (inputs, targets, previous) => {
      let accuracy: tf.Scalar | null = null;
      const lossOf = (batch: BatchTensors, measured: boolean) => () => {
        const output = model.apply(batch.inputs, { training: true }) as tf.Tensor;
        if (measured && accuracy === null) {
          accuracy = tf.keep(objective.accuracy(batch.targets, output));
        }
        return objective.loss(batch.targets, output);
      };
      const loss = optimizer.stepWithPrevious(
        lossOf({ inputs, targets }, true),
        previous == null ? null : lossOf(previous, false),
        trainableVariables(model),
      );
      try {
        return [loss.dataSync()[0] as number, (accuracy as tf.Scalar | null)?.dataSync()[0] ?? NaN];
      } finally {
        tf.dispose([loss, ...(accuracy === null ? [] : [accuracy])]);
      }
    },
  };
}

/** Slices over worker threads (src/parallel); the main thread takes one when it runs wasm. */
async function dataParallelStep(
  model: tfl.LayersModel,
  optimizer: tf.Optimizer,
  spec: ModelSpec,
  replicas: number,
): Promise<StepKind> {
  const mainThreadSlice = tf.getBackend() === 'wasm';
  const trainer = await createDataParallel({
    model: spec,
    workers: mainThreadSlice ? replicas - 1 : replicas,
    mainThreadSlice,
    optimizer,
    mainModel: model,
  });
  return {
    name: 'data-parallel',
    // A step that takes the previous batch (SAMPa's) gets it from the trainer, rebuilt on resume.
    needsPrevious: capabilitiesOf(optimizer)?.previousBatch === true,
    step: async (inputs, targets, previous) =>
      (await trainer.trainOnBatch(inputs, targets, previous)) as [number, number],
    dispose: () => trainer.dispose(),
  };
}
