/**
 * The worker's copy of a two-point step (SAMPa): it holds x, the stored gradient s and the base's
 * momentum buffers as the main thread does, takes the gradient at x̃ = x + ρ/(‖s‖ + ϵ)·s, and,
 * once the main thread's gradient at y arrives, takes the same step with the same kernels, so that
 * both copies stay equal bit for bit. The main thread then only sends the batch and a few numbers;
 * it resends x, s and the buffers (sync) whenever its own copy changed otherwise.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { sgdStepsOf } from '../math/fused-ops.js';
import { normalizedStepFrom } from '../math/perturbation.js';
import { readVariables, sectionTensors, writeTensors, type VariableLayout } from './layout.js';
import {
  twoPointViews,
  type GradientMessage,
  type ReplicatedStep,
  type StepMessage,
  type TwoPointBuffers,
  type TwoPointViews,
} from './protocol.js';
import { sliceGradients, type DataParallelLoss, type SliceResult } from './replica-step.js';

export class TwoPointReplica {
  private stored: tf.Tensor[] | null = null;
  private accumulations: tf.Tensor[] | null = null;
  private pending: { id: number; step: ReplicatedStep; gradients: tf.Tensor[] } | null = null;
  /** x̃ of the next step, formed while the main thread ends this one (for the same ρ and ϵ). */
  private prepared: { rho: number; epsilon: number; point: tf.Tensor[] } | null = null;
  private readonly buffers: TwoPointViews;

  constructor(
    private readonly model: tfl.LayersModel,
    private readonly layout: VariableLayout,
    private readonly loss: DataParallelLoss,
    shared: TwoPointBuffers,
    private readonly weights: Float32Array,
    private readonly output: Float32Array,
  ) {
    this.buffers = twoPointViews(shared);
  }

  /** The gradient at x̃ on the message's batch, written to the output buffer and kept. */
  gradient(message: StepMessage, step: ReplicatedStep, xs: tf.Tensor, ys: tf.Tensor): SliceResult {
    this.dropPending();
    const variables = this.layout.trainable;
    if (step.sync) this.load(step.momentum);
    const stored = this.stored;
    if (stored === null) {
      throw new Error(
        'two-point replica: a replicated step arrived before the stored gradient was sent (sync: true).',
      );
    }
    const x = variables.map((v) => tf.keep(tf.clone(v)));
    let result: ReturnType<typeof sliceGradients>;
    try {
      const point =
        this.takePrepared(step) ?? normalizedStepFrom(x, stored, step.rho, step.epsilon);
      variables.forEach((v, i) => v.assign(point[i] as tf.Tensor));
      tf.dispose(point);
      result = sliceGradients(this.model, this.layout, xs, ys, this.loss, null, 0, this.output);
    } finally {
      variables.forEach((v, i) => v.assign(x[i] as tf.Tensor));
      tf.dispose(x);
    }
    const { gradients, ...slice } = result;
    writeTensors(gradients, this.layout.trainableSlots, this.output);
    this.pending = { id: message.id, step, gradients };
    return slice;
  }

  /** The step with the kept gradient and the main thread's, as the main thread takes it. */
  finish(message: GradientMessage): void {
    const pending = this.pending;
    this.pending = null;
    if (pending === null || pending.id !== message.id) {
      throw new Error(
        `two-point replica: the main thread's gradient of step ${message.id} arrived, but the replica holds step ${pending?.id ?? 'none'}.`,
      );
    }
    const { step, gradients } = pending;
    const variables = this.layout.trainable;
    const atY = sectionTensors(this.layout, this.buffers.mainGradients[step.parity]);
    const stepped = sgdStepsOf(variables, gradients, atY, this.accumulations, step.step);
    const finite =
      Number.isFinite(message.loss) && Number.isFinite(stepped.probe.dataSync()[0] as number);
    tf.dispose([...gradients, stepped.probe]);
    if (finite) {
      variables.forEach((v, i) => v.assign(stepped.values[i] as tf.Tensor));
      tf.dispose([...stepped.values, ...(this.stored ?? []), ...(this.accumulations ?? [])]);
      this.stored = atY.map((t) => tf.keep(t));
      this.accumulations = stepped.accumulations?.map((t) => tf.keep(t)) ?? null;
    } else {
      tf.dispose([...stepped.values, ...(stepped.accumulations ?? []), ...atY]);
    }
    // The worker has nothing else to do until the next step arrives.
    this.prepared = {
      rho: step.rho,
      epsilon: step.epsilon,
      point: normalizedStepFrom(variables, this.stored as tf.Tensor[], step.rho, step.epsilon).map(
        (t) => tf.keep(t),
      ),
    };
  }

  /** The prepared x̃ when it was formed from what this step starts from (the caller frees it). */
  private takePrepared(step: ReplicatedStep): tf.Tensor[] | null {
    const prepared = this.prepared;
    this.prepared = null;
    if (prepared === null) return null;
    if (!step.sync && prepared.rho === step.rho && prepared.epsilon === step.epsilon) {
      return prepared.point;
    }
    tf.dispose(prepared.point);
    return null;
  }

  /** A step the main thread abandoned (its pass failed) leaves nothing behind. */
  private dropPending(): void {
    if (this.pending !== null) tf.dispose(this.pending.gradients);
    this.pending = null;
  }

  private load(momentum: boolean): void {
    const { layout } = this;
    readVariables(layout.trainable, layout.trainableSlots, this.weights);
    tf.dispose([...(this.stored ?? []), ...(this.accumulations ?? [])]);
    this.stored = sectionTensors(this.layout, this.buffers.stored).map((t) => tf.keep(t));
    this.accumulations = momentum
      ? sectionTensors(this.layout, this.buffers.accumulations).map((t) => tf.keep(t))
      : null;
  }
}
