/**
 * m-sharpness (Foret et al. 2021, §4.1): one perturbation per part of the batch, each from that
 * part's own gradient; the update is the MEAN of the parts' perturbed gradients (a sum would scale
 * the step by m for mean losses). The optimizer supplies how to perturb and where gradients come
 * from; this module holds the sweep over the parts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { NonTrainableRecorder } from './state-guard.js';

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
 * The mean over parts of ∇L_j(w + ε_j), and the mean of the parts' losses at w. Between parts the
 * weights and the non-trainable state of each perturbed pass are restored exactly.
 */
export function meanPerturbedGradients(
  partLossFns: ReadonlyArray<() => tf.Scalar>,
  variables: tf.Variable[],
  passes: PartPasses,
): { gradients: tf.Tensor[]; loss: tf.Scalar } {
  const parts = partLossFns.length;
  const sums: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
  const losses: tf.Scalar[] = [];
  try {
    for (const partLoss of partLossFns) {
      const first = tf.variableGrads(partLoss, variables);
      losses.push(first.value);
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
          sums[i] = tf.add(previous, g);
          previous.dispose();
        });
        tf.dispose(Object.values(second.grads));
      } finally {
        recorder.restore();
        variables.forEach((v, i) => v.assign(originals[i] as tf.Tensor));
        tf.dispose(originals);
      }
    }
    return {
      gradients: tf.tidy(() => sums.map((t) => tf.div(t, parts))),
      loss: tf.tidy(() => tf.div(tf.addN(losses), parts) as tf.Scalar),
    };
  } finally {
    tf.dispose([...sums, ...losses]);
  }
}
