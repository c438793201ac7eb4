/**
 * One replica's share of a data-parallel step, run the same way in a worker and in the main thread:
 * the gradient of the mean loss over its slice (at w, or at w + ε_j for SAM), and the non-trainable
 * state after its forward pass at w.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { maskedPerturbation, type PerturbationPlan } from '../math/perturbation.js';
import { writeTensors, writeVariables, type VariableLayout } from './layout.js';

export const DATA_PARALLEL_LOSSES = [
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
] as const;
export type DataParallelLoss = (typeof DATA_PARALLEL_LOSSES)[number];

/** The loss and accuracy `model.compile({loss, metrics: ['accuracy']})` would use. */
const LOSS_AND_ACCURACY: Record<
  DataParallelLoss,
  {
    loss: (y: tf.Tensor, p: tf.Tensor) => tf.Tensor;
    accuracy: (y: tf.Tensor, p: tf.Tensor) => tf.Tensor;
  }
> = {
  categoricalCrossentropy: {
    loss: tfl.metrics.categoricalCrossentropy,
    accuracy: tfl.metrics.categoricalAccuracy,
  },
  sparseCategoricalCrossentropy: {
    // As tfjs-layers' own sparse loss (not exported): one-hot targets into the categorical one.
    loss: (y, p) =>
      tfl.metrics.categoricalCrossentropy(
        tf.oneHot(tf.cast(tf.reshape(y, [-1]), 'int32'), p.shape[p.shape.length - 1] as number),
        p,
      ),
    accuracy: tfl.metrics.sparseCategoricalAccuracy,
  },
};

export interface SliceResult {
  /** Mean loss over the slice at w. */
  loss: number;
  /** Mean accuracy over the slice at w. */
  accuracy: number;
}

/** A slice's result with its gradient kept as tensors (the caller disposes them). */
export interface SliceGradients extends SliceResult {
  gradients: tf.Tensor[];
}

/**
 * Fills `output` (layout.totalSize floats) with the slice's gradient in the trainable section and
 * the non-trainable state after the forward pass at w in the state section. With `perturbation`
 * and ρ > 0 the gradient is taken at w + ε_j, ε_j from this slice's own gradient (the optimizer's
 * perturbation plan, src/math/perturbation.ts), and w is restored afterwards.
 */
export function computeSliceGradient(
  model: tfl.LayersModel,
  layout: VariableLayout,
  xs: tf.Tensor,
  ys: tf.Tensor,
  lossName: DataParallelLoss,
  perturbation: PerturbationPlan | null,
  rho: number,
  output: Float32Array,
): SliceResult {
  const { gradients, ...result } = sliceGradients(
    model,
    layout,
    xs,
    ys,
    lossName,
    perturbation,
    rho,
    output,
  );
  writeTensors(gradients, layout.trainableSlots, output);
  tf.dispose(gradients);
  return result;
}

/**
 * As {@link computeSliceGradient}, but the gradient stays on the backend as tensors (the main
 * thread's slice: no copy out and back); only the state section of `output` is written.
 */
export function sliceGradients(
  model: tfl.LayersModel,
  layout: VariableLayout,
  xs: tf.Tensor,
  ys: tf.Tensor,
  lossName: DataParallelLoss,
  perturbation: PerturbationPlan | null,
  rho: number,
  output: Float32Array,
): SliceGradients {
  const { loss: lossOf, accuracy: accuracyOf } = LOSS_AND_ACCURACY[lossName];
  const variables = layout.trainable;
  // The accuracy at w, from the first pass only.
  const atFirstPass: { accuracy?: tf.Tensor } = {};
  const lossFn = () => {
    const predictions = model.apply(xs, { training: true }) as tf.Tensor;
    atFirstPass.accuracy ??= tf.keep(tf.mean(accuracyOf(ys, predictions)));
    return tf.mean(lossOf(ys, predictions)) as tf.Scalar;
  };
  const atW = tf.variableGrads(lossFn, variables);
  const gradientsAtW = variables.map((v) => atW.grads[v.name] ?? tf.zerosLike(v));
  writeVariables(layout.state, layout.stateSlots, output);
  const result: SliceResult = {
    loss: atW.value.dataSync()[0] as number,
    accuracy: atFirstPass.accuracy?.dataSync()[0] ?? NaN,
  };
  tf.dispose([atW.value, ...(atFirstPass.accuracy ? [atFirstPass.accuracy] : [])]);
  if (perturbation === null || rho === 0) {
    const kept = new Set(gradientsAtW);
    tf.dispose(Object.values(atW.grads).filter((g) => !kept.has(g)));
    return { ...result, gradients: gradientsAtW };
  }
  const originals = variables.map((v) => tf.clone(v));
  try {
    const epsilons = maskedPerturbation(variables, gradientsAtW, perturbation, rho);
    tf.dispose([...gradientsAtW, ...Object.values(atW.grads)]);
    tf.tidy(() =>
      variables.forEach((v, i) => {
        const epsilon = epsilons[i];
        if (epsilon != null) v.assign(tf.add(v, epsilon));
      }),
    );
    tf.dispose(epsilons.filter((e): e is tf.Tensor => e !== null));
    const atPerturbed = tf.variableGrads(lossFn, variables);
    const gradients = variables.map((v) => atPerturbed.grads[v.name] ?? tf.zerosLike(v));
    const kept = new Set(gradients);
    tf.dispose([
      atPerturbed.value,
      ...Object.values(atPerturbed.grads).filter((g) => !kept.has(g)),
    ]);
    return { ...result, gradients };
  } finally {
    variables.forEach((v, i) => v.assign(originals[i] as tf.Tensor));
    tf.dispose(originals);
  }
}
