/**
 * Side-effect-free evaluation: every diagnostic snapshots the variables it perturbs and undoes
 * non-trainable updates (BatchNorm moving statistics) that its forward passes make.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NonTrainableRecorder } from '../core/state-guard.js';

export type LossFn = () => tf.Scalar;

/**
 * A mean loss given part by part: `parts[j]` is the loss on the j-th of disjoint parts of the
 * data and `weights[j]` its share of the examples (the weights sum to 1). Hessian-vector products
 * are linear in the loss, so they are taken one part at a time and summed with these weights:
 * memory then holds one part's double-backprop graph instead of the whole sample's.
 */
export interface LossParts {
  parts: readonly LossFn[];
  weights: readonly number[];
}

/** The loss whose Hessian a second-order diagnostic takes: one closure, or the same loss in parts. */
export type HessianLoss = LossFn | LossParts;

let guardDepth = 0;

/** Runs `fn`, then restores `variables` from a snapshot and undoes non-trainable assignments. */
export function withRestoredState<T>(variables: readonly tf.Variable[], fn: () => T): T {
  if (guardDepth > 0) return fn();
  const snapshot = variables.map((v) => tf.keep(tf.clone(v)));
  const recorder = new NonTrainableRecorder();
  recorder.start();
  guardDepth += 1;
  try {
    return fn();
  } finally {
    guardDepth -= 1;
    recorder.restore();
    variables.forEach((v, i) => v.assign(snapshot[i] as tf.Tensor));
    snapshot.forEach((t) => t.dispose());
  }
}

/** Assigns base + offset to every variable (offsets may be null: left at base). */
export function assignOffset(
  variables: readonly tf.Variable[],
  base: readonly tf.Tensor[],
  offset: readonly (tf.Tensor | null)[],
): void {
  tf.tidy(() => {
    variables.forEach((v, i) => {
      const delta = offset[i];
      v.assign(delta ? tf.add(base[i] as tf.Tensor, delta) : (base[i] as tf.Tensor));
    });
  });
}

export function readScalar(tensor: tf.Tensor): number {
  const value = tensor.dataSync()[0] as number;
  return value;
}

/** Evaluates the loss and returns it as a number, freeing every tensor. */
export function lossValue(lossFn: LossFn): number {
  return tf.tidy(() => readScalar(lossFn()));
}

/** Loss and gradients (in variable order) at the current weights. */
export function lossAndGradients(
  lossFn: LossFn,
  variables: readonly tf.Variable[],
): { loss: number; gradients: tf.Tensor[] } {
  const { value, grads } = tf.variableGrads(lossFn, variables as tf.Variable[]);
  const loss = readScalar(value);
  value.dispose();
  return { loss, gradients: variables.map((v) => grads[v.name] as tf.Tensor) };
}

export function checkVariables(owner: string, variables: unknown): tf.Variable[] {
  if (!Array.isArray(variables) || variables.length === 0) {
    throw new Error(`${owner}: 'variables' must be a non-empty array of tf.Variable.`);
  }
  for (const v of variables as unknown[]) {
    const candidate = v as { assign?: unknown; isDisposed?: boolean; name?: unknown };
    if (typeof candidate?.assign !== 'function' || typeof candidate.name !== 'string') {
      throw new Error(`${owner}: 'variables' must hold only tf.Variable (got ${String(v)}).`);
    }
    if (candidate.isDisposed) {
      throw new Error(`${owner}: variable '${candidate.name}' is disposed.`);
    }
  }
  return variables as tf.Variable[];
}

export function checkLossFn(owner: string, lossFn: unknown): LossFn {
  if (typeof lossFn !== 'function') {
    throw new Error(
      `${owner}: 'lossFn' is ${typeof lossFn}; expected a function returning a scalar.`,
    );
  }
  return lossFn as LossFn;
}

export function checkHessianLoss(owner: string, loss: unknown): HessianLoss {
  if (typeof loss === 'function') return loss as LossFn;
  const value = loss as Partial<LossParts> | null;
  if (value === null || typeof value !== 'object' || !Array.isArray(value.parts)) {
    throw new Error(
      `${owner}: 'lossFn' is ${value === null ? 'null' : typeof value}; expected a function returning a scalar, or {parts, weights} (a loss in parts).`,
    );
  }
  const { parts, weights } = value as LossParts;
  if (parts.length === 0 || !Array.isArray(weights) || weights.length !== parts.length) {
    throw new Error(
      `${owner}: a loss in parts needs at least one part and one weight per part; got ${parts.length} parts and ${Array.isArray(weights) ? weights.length : 'no'} weights.`,
    );
  }
  parts.forEach((part, j) => checkLossFn(`${owner} (part ${j})`, part));
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (weights.some((w) => !Number.isFinite(w) || w <= 0) || Math.abs(total - 1) > 1e-6) {
    throw new Error(
      `${owner}: the weights of a loss in parts are each part's share of the examples, positive and summing to 1; got [${weights.join(', ')}] (sum ${total}).`,
    );
  }
  return loss as LossParts;
}

/** Seeded N(0, 1) tensors shaped like `variables`; each tensor gets its own derived seed. */
export function gaussianLike(variables: readonly tf.Tensor[], seed: number): tf.Tensor[] {
  return variables.map((v, i) => tf.randomNormal(v.shape, 0, 1, 'float32', seed * 7919 + i + 1));
}

/** Seeded Rademacher (±1) tensors shaped like `variables`. */
export function rademacherLike(variables: readonly tf.Tensor[], seed: number): tf.Tensor[] {
  return variables.map((v, i) =>
    tf.tidy(() => {
      const uniform = tf.randomUniform(v.shape, 0, 1, 'float32', seed * 7919 + i + 1);
      return tf.sub(tf.mul(tf.cast(tf.less(uniform, 0.5), 'float32'), 2), 1);
    }),
  );
}

export function disposeAll(tensors: readonly (tf.Tensor | null)[]): void {
  for (const t of tensors) t?.dispose();
}
