/**
 * A step whose two gradients are independent (SAMPa, Xie et al. 2024) on two threads: the worker
 * takes the gradient at the perturbed point on the previous batch while the main thread takes it at
 * the extrapolated point on this one; the optimizer then steps with both. The main thread's pass
 * updates the non-trainable state, as in the single-threaded step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { TwoPointStepping } from '../core/method.js';
import { writeTensors, writeVariables, type VariableLayout } from './layout.js';
import { sliceGradients, type DataParallelLoss } from './replica-step.js';

/** What the step needs of its data-parallel trainer. */
export interface PairedContext {
  model: tfl.LayersModel;
  layout: VariableLayout;
  loss: DataParallelLoss;
  /** The weights the worker reads. */
  weights: Float32Array;
  mainOutput: Float32Array;
  workerOutput: Float32Array;
  /** Sends a batch to the worker (which takes its gradient at `weights`); resolves when done. */
  runWorker(inputs: tf.Tensor, targets: tf.Tensor): Promise<unknown>;
  /** Calls `use` with the gradient section of `values` as tensors (freed afterwards). */
  withSection(values: Float32Array, use: (gradients: tf.Tensor[]) => void): void;
}

export async function pairedStep(
  context: PairedContext,
  optimizer: tf.Optimizer & TwoPointStepping,
  xs: tf.Tensor,
  ys: tf.Tensor,
  previous: { inputs: tf.Tensor; targets: tf.Tensor },
): Promise<[number, number]> {
  const { layout, model } = context;
  const variables = layout.trainable;
  const mainPass = () =>
    sliceGradients(model, layout, xs, ys, context.loss, null, 0, context.mainOutput);
  const perturbed = optimizer.perturbedPoint(variables);
  if (perturbed === 'base') {
    const result = mainPass();
    try {
      optimizer.applyGradients(
        result.gradients.map((tensor, i) => ({ name: (variables[i] as tf.Variable).name, tensor })),
      );
    } finally {
      tf.dispose(result.gradients);
    }
    return [result.loss, result.accuracy];
  }
  let extrapolated: tf.Tensor[] | null = null;
  try {
    if (perturbed === null) writeVariables(variables, layout.trainableSlots, context.weights);
    else writeTensors(perturbed, layout.trainableSlots, context.weights);
    writeVariables(layout.state, layout.stateSlots, context.weights);
    const fromWorker = context.runWorker(previous.inputs, previous.targets);
    const x = variables.map((v) => tf.keep(tf.clone(v)));
    let result: ReturnType<typeof mainPass>;
    try {
      // Formed while the worker already runs.
      extrapolated = optimizer.extrapolatedPoint(variables);
      const point = extrapolated;
      if (point !== null) variables.forEach((v, i) => v.assign(point[i] as tf.Tensor));
      result = mainPass();
    } catch (error) {
      await fromWorker.catch(() => undefined);
      throw error;
    } finally {
      variables.forEach((v, i) => v.assign(x[i] as tf.Tensor));
      tf.dispose(x);
    }
    const loss = tf.scalar(result.loss);
    try {
      await fromWorker;
      context.withSection(context.workerOutput, (atPerturbed) =>
        optimizer.applyStepGradients(variables, atPerturbed, result.gradients, loss),
      );
    } finally {
      tf.dispose([loss, ...result.gradients]);
    }
    return [result.loss, result.accuracy];
  } finally {
    tf.dispose([...(perturbed ?? []), ...(extrapolated ?? [])]);
  }
}
