/**
 * How the trainer runs one optimizer step on a batch, chosen once per run from the optimizer's
 * capabilities and the run's settings: the plain `trainOnBatch` step, m-sharpness parts, ESAM-like
 * data selection on per-example losses, or data-parallel slices over worker threads. Each returns
 * [loss, accuracy] at w, the values `trainOnBatch` reports.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DataSelecting, MSharpnessStepping, PerExampleLoss } from '../core/method.js';
import { createDataParallel, type ModelSpec } from '../parallel/index.js';
import { capabilitiesOf, checkStepPlan } from '../toolkit/capabilities.js';
import { checkNumber } from '../util/validate.js';
import { objectiveFor, type Objective } from './objective.js';

export interface StepKind {
  readonly name: 'plain' | 'm-sharpness' | 'data selection' | 'data-parallel';
  /** One step on a batch; returns [loss, accuracy] at w. */
  step(inputs: tf.Tensor, targets: tf.Tensor): Promise<[number, number]>;
  /** Frees what the kind holds (the workers of a data-parallel run). */
  dispose(): Promise<void>;
}

export interface StepKindRequest {
  /** Parts per batch, one perturbation each (1: off). */
  mSharpness: number;
  /** Data-parallel replicas of the zoo model `model` (null or 1 replica: off). */
  dataParallel: { model: ModelSpec; replicas: number } | null;
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
  checkStepPlan(
    optimizer,
    { mSharpness: request.mSharpness, workers: replicas },
    {
      mSharpness: 'mSharpness',
      workers: 'dataParallel',
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
  if (request.mSharpness > 1) {
    return mSharpnessStep(
      model,
      optimizer as tf.Optimizer & MSharpnessStepping,
      request.mSharpness,
      objective,
    );
  }
  if (capabilitiesOf(optimizer)?.dataSelection === true) {
    return dataSelectionStep(model, optimizer as tf.Optimizer & DataSelecting, objective);
  }
  return objective.trainsOnCompiledLoss
    ? plainStep(model)
    : minimizeStep(model, optimizer, objective);
}

/** `model.trainOnBatch`, the path `model.fit` takes. */
function plainStep(model: tfl.LayersModel): StepKind {
  return {
    name: 'plain',
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

/** m-sharpness (`stepMSharpness`) on `parts` contiguous parts of each batch. */
function mSharpnessStep(
  model: tfl.LayersModel,
  optimizer: MSharpnessStepping,
  parts: number,
  objective: Objective,
): StepKind {
  return {
    name: 'm-sharpness',
    dispose: async () => undefined,
    step: async (inputs, targets) => {
      const rows = inputs.shape[0] as number;
      const bounds = Array.from({ length: parts + 1 }, (_, j) => Math.round((j * rows) / parts));
      const slices = bounds.slice(0, -1).map((start, j) => {
        const size = (bounds[j + 1] as number) - start;
        return { xs: tf.slice(inputs, start, size), ys: tf.slice(targets, start, size), size };
      });
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
    step: async (inputs, targets) =>
      (await trainer.trainOnBatch(inputs, targets)) as [number, number],
    dispose: () => trainer.dispose(),
  };
}
