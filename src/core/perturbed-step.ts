/**
 * A sharpness-aware step between its two passes: w saved, the weights moved to w_k, and the
 * assignments to non-trainable variables (BatchNorm statistics) recorded so they can be undone.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NonTrainableRecorder } from './state-guard.js';

/** What the hooks of a step see. Tensors belong to the step; hooks must not dispose them. */
export interface StepContext {
  /** Number of steps applied before this one. */
  iteration: number;
  rho: number;
  /** The variables the base trains this step, in order (those given a first-pass gradient). */
  variables: tf.Variable[];
  /** ∇L(w); present only when the variant sets `keepsFirstGradients`. */
  firstGradients: tf.Tensor[] | null;
  /** w_k − w, the total ascent; present only when the variant sets `keepsPerturbation`. */
  perturbation: tf.Tensor[] | null;
  /** ∇L(w_k), the gradient at the perturbed point. */
  perturbedGradients: tf.Tensor[];
  /** The loss closure, when the step was run by `step`/`minimize` (null in the two-call API). */
  lossFn: (() => tf.Scalar) | null;
}

export class PerturbedStep {
  readonly recorder = new NonTrainableRecorder();
  private readonly originals: tf.Tensor[];
  /** The buffers the ascent left the variables in: another assignment replaces them. */
  private arrivedAt: unknown[] = [];

  constructor(
    readonly iteration: number,
    readonly rho: number,
    /** The perturbed variables (those given a first-pass gradient). */
    readonly variables: tf.Variable[],
    /** The variables the second pass's gradients train (a superset of `variables`, ESAM). */
    readonly trained: tf.Variable[],
    /** ∇L(w), kept when the variant asks for it. */
    readonly firstGradients: tf.Tensor[] | null,
  ) {
    this.originals = variables.map((v) => tf.keep(tf.clone(v)));
  }

  /** Marks the weights as at w_k: from here on, assignments to them are the caller's error. */
  arrived(): void {
    this.arrivedAt = this.variables.map((v) => v.dataId);
  }

  /** Names of the perturbed variables assigned to (or disposed) since `arrived()`. */
  changedVariables(): string[] {
    return this.variables
      .filter((v, i) => v.isDisposed || v.dataId !== this.arrivedAt[i])
      .map((v) => v.name);
  }

  /** w_k − w per perturbed variable (the caller disposes them). */
  ascent(): tf.Tensor[] {
    return tf.tidy(() => this.variables.map((v, i) => tf.sub(v, this.originals[i] as tf.Tensor)));
  }

  /** Puts w and the non-trainable state back; frees the saved copies. */
  restore(): void {
    this.recorder.restore();
    this.variables.forEach((v, i) => {
      if (!v.isDisposed) v.assign(this.originals[i] as tf.Tensor);
    });
    tf.dispose(this.originals);
  }

  /** Frees the kept first-pass gradients. */
  release(): void {
    tf.dispose(this.firstGradients ?? []);
  }
}
