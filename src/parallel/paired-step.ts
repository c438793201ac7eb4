/**
 * A step whose two gradients are independent (SAMPa, Xie et al. 2024) on two threads: the worker
 * takes the gradient at the perturbed point on the previous batch while the main thread takes it at
 * the extrapolated point on this one; the optimizer then steps with both. The main thread's pass
 * updates the non-trainable state, as in the single-threaded step.
 *
 * Where the optimizer describes the step as data (`replicaStep`), the worker holds its own copy of
 * x, the stored gradient and the momentum buffers and takes the same step with the same kernels:
 * the main thread then sends only the batch, and its gradient at y, instead of x̃ — it neither
 * forms x̃ nor copies it, and the worker forms it while the main thread ends the previous step
 * (the MLP's step: 3.2 ms before the worker's pass could start, now 1.4). It resends x, s and the
 * buffers whenever its own differ from what the replica was last given (anything but the
 * replicated step changed them: a plain step, a failed one, `setWeights`, a checkpoint).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ReplicaStep, TwoPointStepping } from '../core/method.js';
import { writeTensors, writeVariables, type VariableLayout } from './layout.js';
import type { ReplicatedStep, TwoPointViews } from './protocol.js';
import { sliceGradients, type DataParallelLoss } from './replica-step.js';

/** What the worker's replica holds, as the identities of the main thread's tensors it copies. */
export interface ReplicaSync {
  /** x, s and the buffers after the last replicated step (null: unknown, resend them). */
  tokens: readonly object[] | null;
  /** Which of the two main-gradient buffers the next step writes. */
  parity: 0 | 1;
}

/** What the step needs of its data-parallel trainer. */
export interface PairedContext {
  model: tfl.LayersModel;
  layout: VariableLayout;
  loss: DataParallelLoss;
  /** The weights the worker reads. */
  weights: Float32Array;
  mainOutput: Float32Array;
  workerOutput: Float32Array;
  twoPoint: TwoPointViews | null;
  replicaSync: ReplicaSync;
  /**
   * Sends a batch to the worker (which takes its gradient at `weights`, or as `replicated` says);
   * resolves when done.
   */
  runWorker(inputs: tf.Tensor, targets: tf.Tensor, replicated?: ReplicatedStep): Promise<unknown>;
  /** Tells the worker that the main thread's gradient of the running replicated step is written. */
  postGradient(loss: number): void;
  /** Calls `use` with the gradient section of `values` as tensors (freed afterwards). */
  withSection(values: Float32Array, use: (gradients: tf.Tensor[]) => void): void;
}

type Batch = { inputs: tf.Tensor; targets: tf.Tensor };

export async function pairedStep(
  context: PairedContext,
  optimizer: tf.Optimizer & TwoPointStepping,
  xs: tf.Tensor,
  ys: tf.Tensor,
  previous: Batch,
): Promise<[number, number]> {
  const replica =
    context.twoPoint === null ? null : (optimizer.replicaStep?.(context.layout.trainable) ?? null);
  if (replica !== null) return replicatedStep(context, optimizer, replica, xs, ys, previous);
  context.replicaSync.tokens = null;
  const { layout } = context;
  const variables = layout.trainable;
  const perturbed = optimizer.perturbedPoint(variables);
  if (perturbed === 'base') {
    const result = mainPass(context, xs, ys);
    try {
      optimizer.applyGradients(
        result.gradients.map((tensor, i) => ({ name: (variables[i] as tf.Variable).name, tensor })),
      );
    } finally {
      tf.dispose(result.gradients);
    }
    return [result.loss, result.accuracy];
  }
  try {
    if (perturbed === null) writeVariables(variables, layout.trainableSlots, context.weights);
    else writeTensors(perturbed, layout.trainableSlots, context.weights);
    writeVariables(layout.state, layout.stateSlots, context.weights);
    const fromWorker = context.runWorker(previous.inputs, previous.targets);
    const result = await atExtrapolated(context, optimizer, xs, ys, fromWorker);
    return await finishStep(context, optimizer, result, fromWorker);
  } finally {
    tf.dispose(perturbed ?? []);
  }
}

/** The step with the worker's replica: only the batch and the main thread's gradient travel. */
async function replicatedStep(
  context: PairedContext,
  optimizer: tf.Optimizer & TwoPointStepping,
  replica: ReplicaStep,
  xs: tf.Tensor,
  ys: tf.Tensor,
  previous: Batch,
): Promise<[number, number]> {
  const { layout, replicaSync } = context;
  const views = context.twoPoint as TwoPointViews;
  const variables = layout.trainable;
  const identities = () =>
    [...variables, ...replica.stored, ...(replica.accumulations ?? [])].map((t) => t.dataId);
  const before = identities();
  const inSync =
    replicaSync.tokens !== null &&
    replicaSync.tokens.length === before.length &&
    replicaSync.tokens.every((token, i) => token === before[i]);
  replicaSync.tokens = null;
  if (!inSync) {
    writeVariables(variables, layout.trainableSlots, context.weights);
    writeTensors(replica.stored, layout.trainableSlots, views.stored);
    if (replica.accumulations !== null) {
      writeTensors(replica.accumulations, layout.trainableSlots, views.accumulations);
    }
  }
  writeVariables(layout.state, layout.stateSlots, context.weights);
  const parity = replicaSync.parity;
  replicaSync.parity = parity === 0 ? 1 : 0;
  const fromWorker = context.runWorker(previous.inputs, previous.targets, {
    sync: !inSync,
    rho: replica.rho,
    epsilon: replica.epsilon,
    step: replica.step,
    momentum: replica.accumulations !== null,
    parity,
  });
  const result = await atExtrapolated(context, optimizer, xs, ys, fromWorker);
  try {
    writeTensors(result.gradients, layout.trainableSlots, views.mainGradients[parity]);
    context.postGradient(result.loss);
  } catch (error) {
    tf.dispose(result.gradients);
    await fromWorker.catch(() => undefined);
    throw error;
  }
  // Both sides take the step, or both skip it: either way they hold the same state after it —
  // unless its scalars changed while the worker ran (a learning rate set meanwhile).
  return finishStep(context, optimizer, result, fromWorker, () => {
    const now = optimizer.replicaStep?.(variables) ?? null;
    const unchanged = JSON.stringify(now?.step) === JSON.stringify(replica.step);
    replicaSync.tokens = unchanged ? identities() : null;
  });
}

function mainPass(context: PairedContext, xs: tf.Tensor, ys: tf.Tensor) {
  const { model, layout, loss, mainOutput } = context;
  return sliceGradients(model, layout, xs, ys, loss, null, 0, mainOutput);
}

/** The main thread's gradient at y on this batch (x restored after); waits for the worker on error. */
async function atExtrapolated(
  context: PairedContext,
  optimizer: TwoPointStepping,
  xs: tf.Tensor,
  ys: tf.Tensor,
  fromWorker: Promise<unknown>,
): Promise<ReturnType<typeof mainPass>> {
  const variables = context.layout.trainable;
  const x = variables.map((v) => tf.keep(tf.clone(v)));
  let extrapolated: tf.Tensor[] | null = null;
  try {
    // Formed while the worker already runs.
    extrapolated = optimizer.extrapolatedPoint(variables);
    const point = extrapolated;
    if (point !== null) variables.forEach((v, i) => v.assign(point[i] as tf.Tensor));
    return mainPass(context, xs, ys);
  } catch (error) {
    await fromWorker.catch(() => undefined);
    throw error;
  } finally {
    variables.forEach((v, i) => v.assign(x[i] as tf.Tensor));
    tf.dispose([...x, ...(extrapolated ?? [])]);
  }
}

/** Waits for the worker's gradient at x̃ and lets the optimizer step with both. */
async function finishStep(
  context: PairedContext,
  optimizer: TwoPointStepping,
  result: ReturnType<typeof mainPass>,
  fromWorker: Promise<unknown>,
  afterStep: () => void = () => undefined,
): Promise<[number, number]> {
  const loss = tf.scalar(result.loss);
  try {
    await fromWorker;
    context.withSection(context.workerOutput, (atPerturbed) => {
      try {
        optimizer.applyStepGradients(context.layout.trainable, atPerturbed, result.gradients, loss);
      } finally {
        afterStep();
      }
    });
  } finally {
    tf.dispose([loss, ...result.gradients]);
  }
  return [result.loss, result.accuracy];
}
