/**
 * Steps over micro-batches. A step's gradients come from a `GradientSource`: one loss closure, or
 * parts of the batch swept one at a time into one accumulation buffer (the mean over parts,
 * weighted by their sizes, which is the gradient of the whole batch's mean loss). m-sharpness
 * (Foret et al. 2021, §4.1) sweeps the same parts with one perturbation per part.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NonTrainableRecorder } from './state-guard.js';

/** A part of the batch: its mean loss, and its size when parts differ in size. */
export type BatchPart = (() => tf.Scalar) | { loss: () => tf.Scalar; size: number };

/** A pass: the loss and the gradients by variable name. */
export type PassGradients = { value: tf.Scalar; grads: tf.NamedTensorMap };

/** Where a step's gradients come from. */
export interface GradientSource {
  /**
   * The gradients of the step's mean loss at the current weights. `later`: a pass after the
   * first, whose metric scalars a tfjs-layers closure keeps are freed at the next step.
   */
  gradients(variables: tf.Variable[], later: boolean): PassGradients;
  /** The step's mean loss, forward only (XSAM's probes). */
  lossFn: () => tf.Scalar;
}

/** The loss closures of `parts` and their weights (sizes over the total; equal without sizes). */
export function partWeights(
  owner: string,
  parts: readonly BatchPart[],
): { fns: Array<() => tf.Scalar>; weights: number[] } {
  if (!Array.isArray(parts) || parts.length < 1) {
    throw new Error(
      `${owner}: expected a non-empty array of part loss functions (or {loss, size} objects); got ${String(parts)}.`,
    );
  }
  const sizes = parts.map((part, j) => {
    if (typeof part === 'function') return 1;
    const ok =
      part !== null &&
      typeof part === 'object' &&
      typeof part.loss === 'function' &&
      typeof part.size === 'number' &&
      Number.isFinite(part.size) &&
      part.size > 0;
    if (!ok) {
      throw new Error(
        `${owner}: part ${j} is ${JSON.stringify(part)}; expected a loss function or {loss: () => mean loss, size: examples > 0}.`,
      );
    }
    return part.size;
  });
  if (parts.some((p) => typeof p === 'function') && parts.some((p) => typeof p !== 'function')) {
    throw new Error(
      `${owner}: give every part a size ({loss, size}) or none: a mix cannot be weighted.`,
    );
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  return {
    fns: parts.map((p) => (typeof p === 'function' ? p : p.loss)),
    weights: sizes.map((s) => s / total),
  };
}

/** The loss of part `j`, checked to be a scalar. */
function scalarLoss(owner: string, fn: () => tf.Scalar, j: number): () => tf.Scalar {
  return () => {
    const value = fn();
    if (!(value instanceof tf.Tensor) || value.rank !== 0) {
      const shape = value instanceof tf.Tensor ? `[${value.shape.join(', ')}]` : String(value);
      throw new Error(
        `${owner}: part ${j}'s loss has shape ${shape}; each part must return its mean loss as a scalar.`,
      );
    }
    return value;
  };
}

/**
 * Gradients summed over `parts`, each weighted, into one buffer per variable (a variable no part
 * reaches gets none). `gradientsOf(fn, variables, later)` takes one part's pass.
 */
export function accumulatingSource(
  owner: string,
  parts: readonly BatchPart[],
  gradientsOf: (fn: () => tf.Scalar, variables: tf.Variable[], later: boolean) => PassGradients,
): GradientSource {
  const { fns, weights } = partWeights(owner, parts);
  const checked = fns.map((fn, j) => scalarLoss(owner, fn, j));
  return {
    gradients: (variables, later) => {
      const sums = new Map<string, tf.Tensor>();
      let loss: tf.Scalar = tf.scalar(0);
      try {
        checked.forEach((fn, j) => {
          const part = gradientsOf(fn, variables, later);
          const weight = weights[j] as number;
          for (const [name, g] of Object.entries(part.grads)) {
            if (g == null) continue;
            const previous = sums.get(name);
            sums.set(
              name,
              tf.tidy(() =>
                previous === undefined ? tf.mul(g, weight) : tf.add(previous, tf.mul(g, weight)),
              ),
            );
            previous?.dispose();
          }
          const previousLoss = loss;
          loss = tf.tidy(() => tf.add(previousLoss, tf.mul(part.value, weight)) as tf.Scalar);
          tf.dispose([previousLoss, part.value, ...Object.values(part.grads)]);
        });
      } catch (error) {
        tf.dispose([loss, ...sums.values()]);
        throw error;
      }
      return { value: loss, grads: Object.fromEntries(sums) };
    },
    lossFn: () =>
      tf.addN(
        checked.map((fn, j) => tf.tidy(() => tf.mul(fn(), weights[j] as number))),
      ) as tf.Scalar,
  };
}

export interface PartPasses {
  /** Moves `variables` to w + ε, ε from `gradients` (one per variable). */
  perturb(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[]): void;
  /** The gradients of `lossFn` at the current weights (its kept metric scalars freed later). */
  gradients(
    lossFn: () => tf.Scalar,
    variables: tf.Variable[],
  ): { value: tf.Scalar; grads: tf.NamedTensorMap };
}

/**
 * m-sharpness: the mean over parts (weighted by size) of ∇L_j(w + ε_j), ε_j from part j's own
 * gradient, and the mean of the parts' losses at w. Between parts the weights and the
 * non-trainable state of each perturbed pass are restored exactly.
 */
export function meanPerturbedGradients(
  owner: string,
  parts: readonly BatchPart[],
  variables: tf.Variable[],
  passes: PartPasses,
): { gradients: tf.Tensor[]; loss: tf.Scalar } {
  const { fns, weights } = partWeights(owner, parts);
  const sums: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
  const losses: tf.Scalar[] = [];
  try {
    fns.forEach((partLoss, j) => {
      const weight = weights[j] as number;
      const first = tf.variableGrads(scalarLoss(owner, partLoss, j), variables);
      losses.push(tf.keep(tf.tidy(() => tf.mul(first.value, weight) as tf.Scalar)));
      first.value.dispose();
      const grads = variables.map((v) => first.grads[v.name] ?? tf.zerosLike(v));
      const originals = variables.map((v) => tf.keep(tf.clone(v)));
      const recorder = new NonTrainableRecorder();
      try {
        passes.perturb(variables, grads);
        tf.dispose([...grads, ...Object.values(first.grads)]);
        recorder.start();
        const second = passes.gradients(partLoss, variables);
        recorder.restore();
        second.value.dispose();
        variables.forEach((v, i) => {
          const g = second.grads[v.name];
          if (g === undefined) return;
          const previous = sums[i] as tf.Tensor;
          sums[i] = tf.tidy(() => tf.add(previous, tf.mul(g, weight)));
          previous.dispose();
        });
        tf.dispose(Object.values(second.grads));
      } finally {
        recorder.restore();
        variables.forEach((v, i) => v.assign(originals[i] as tf.Tensor));
        tf.dispose(originals);
      }
    });
    return { gradients: sums, loss: tf.addN(losses) as tf.Scalar };
  } catch (error) {
    tf.dispose(sums);
    throw error;
  } finally {
    tf.dispose(losses);
  }
}
