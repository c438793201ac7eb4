/** Loss and accuracy closures for a tfjs-layers model on fixed data, written HVP-safe. */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkBoolean, checkChoice } from '../util/validate.js';
import type { Evaluator } from './sharpness.js';
import type { HessianLoss, LossFn, LossParts } from './state.js';

export const MODEL_LOSSES = [
  'categoricalCrossentropy',
  'categoricalCrossentropyFromLogits',
  'meanSquaredError',
  'sparseCategoricalCrossentropy',
  'sparseCategoricalCrossentropyFromLogits',
] as const;
export type ModelLoss = (typeof MODEL_LOSSES)[number];

/**
 * Cross-entropy from logits written as logSumExp(z) − ⟨y, z⟩ with primitive ops, so double
 * backprop works (tf.losses.softmaxCrossEntropy is a customGrad op: no second derivatives).
 */
export function softmaxCrossEntropyFromLogits(labels: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const logSumExp = tf.logSumExp(logits, -1);
    return tf.mean(tf.sub(logSumExp, tf.sum(tf.mul(labels, logits), -1))) as tf.Scalar;
  });
}

/**
 * Class ids (e.g. next-token targets [b, T, 1] of a language model) as one-hot rows shaped like
 * `output` [.., classes].
 */
function oneHotLike(ids: tf.Tensor, output: tf.Tensor): tf.Tensor {
  const classes = output.shape[output.rank - 1] as number;
  return tf.reshape(tf.oneHot(tf.cast(tf.reshape(ids, [-1]), 'int32'), classes), output.shape);
}

function lossOf(kind: ModelLoss, labels: tf.Tensor, output: tf.Tensor): tf.Scalar {
  switch (kind) {
    case 'sparseCategoricalCrossentropy':
      return lossOf('categoricalCrossentropy', oneHotLike(labels, output), output);
    case 'sparseCategoricalCrossentropyFromLogits':
      return softmaxCrossEntropyFromLogits(oneHotLike(labels, output), output);
    case 'categoricalCrossentropy':
      return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.log(tf.add(output, 1e-7))), -1))) as tf.Scalar;
    case 'categoricalCrossentropyFromLogits':
      return softmaxCrossEntropyFromLogits(labels, output);
    case 'meanSquaredError':
      return tf.mean(tf.square(tf.sub(output, labels))) as tf.Scalar;
  }
}

export interface ModelObjective {
  variables: tf.Variable[];
  lossFn: LossFn;
  evaluate: Evaluator;
  /** Loss closures on `parts` contiguous slices of the data (for m-sharpness). */
  partLossFns: (parts: number) => LossFn[];
  /**
   * The loss in contiguous parts of at most `partSize` examples, weighted by their share: the
   * same loss for Hessian-vector products taken part by part (bounded memory).
   */
  lossParts: (partSize: number) => LossParts;
  /** The loss for second-order diagnostics: `lossFn` when `partSize` covers the data, else `lossParts`. */
  hessianLoss: (partSize: number) => HessianLoss;
}

/** Trainable variables of a layers model, as tf.Variable (LayerVariable.read()). */
export function modelVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

export function modelObjective(
  owner: string,
  model: tfl.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  loss: unknown,
  training: unknown,
): ModelObjective {
  if (
    typeof (model as { apply?: unknown })?.apply !== 'function' ||
    !Array.isArray(model.trainableWeights)
  ) {
    throw new Error(`${owner}: 'model' must be a tfjs-layers LayersModel.`);
  }
  if (x?.shape?.[0] === undefined || y?.shape?.[0] !== x.shape[0]) {
    throw new Error(
      `${owner}: 'x' and 'y' must be tensors with the same number of examples (got ${x?.shape?.[0]} and ${y?.shape?.[0]}).`,
    );
  }
  const kind = checkChoice(owner, 'loss', loss ?? 'categoricalCrossentropy', MODEL_LOSSES);
  const isTraining = checkBoolean(owner, 'training', training ?? false);
  const forward = (inputs: tf.Tensor) => model.apply(inputs, { training: isTraining }) as tf.Tensor;
  const n = x.shape[0] as number;
  const partsOf = (parts: number) =>
    Array.from({ length: parts }, (_, j) => {
      const begin = Math.floor((n * j) / parts);
      const size = Math.floor((n * (j + 1)) / parts) - begin;
      const lossFn: LossFn = () =>
        tf.tidy(() => lossOf(kind, tf.slice(y, begin, size), forward(tf.slice(x, begin, size))));
      return { size, lossFn };
    });
  const lossParts = (partSize: number): LossParts => {
    const parts = partsOf(Math.ceil(n / Math.max(1, Math.floor(partSize))));
    return { parts: parts.map((p) => p.lossFn), weights: parts.map((p) => p.size / n) };
  };
  const lossFn: LossFn = () => lossOf(kind, y, forward(x));
  return {
    variables: modelVariables(model),
    lossFn,
    evaluate: () => {
      const output = forward(x);
      const result: { loss: tf.Scalar; accuracy?: tf.Scalar } = { loss: lossOf(kind, y, output) };
      if (
        kind === 'sparseCategoricalCrossentropy' ||
        kind === 'sparseCategoricalCrossentropyFromLogits'
      ) {
        const ids = tf.reshape(tf.cast(y, 'int32'), output.shape.slice(0, -1));
        result.accuracy = tf.mean(
          tf.cast(tf.equal(tf.argMax(output, -1), ids), 'float32'),
        ) as tf.Scalar;
      } else if (kind !== 'meanSquaredError') {
        result.accuracy = tf.mean(
          tf.cast(tf.equal(tf.argMax(output, -1), tf.argMax(y, -1)), 'float32'),
        ) as tf.Scalar;
      }
      return result;
    },
    partLossFns: (parts: number) => partsOf(parts).map((part) => part.lossFn),
    lossParts,
    hessianLoss: (partSize: number) => (partSize < n ? lossParts(partSize) : lossFn),
  };
}
