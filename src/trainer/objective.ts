/**
 * What the trainer minimizes and reports, by task: classification (one class per example, one-hot
 * targets, categorical cross-entropy, accuracy) or next-token prediction (targets [b, T, 1] of ids,
 * the mean cross-entropy over tokens, next-token accuracy and perplexity = exp(mean token loss)).
 * The compiled loss of `model.compile` and the closures of the custom step kinds compute the same
 * numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ExamplesTask } from '../data/examples.js';

export interface Objective {
  task: ExamplesTask;
  /** For `model.compile`: the loss name (its metric 'accuracy' follows the loss). */
  compiledLoss: 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy';
  /** Loss per example [b] (next-token: the mean over the example's positions). */
  perExampleLoss(targets: tf.Tensor, outputs: tf.Tensor): tf.Tensor1D;
  /** The mean loss the compiled model minimizes. */
  loss(targets: tf.Tensor, outputs: tf.Tensor): tf.Scalar;
  /** Mean accuracy (next-token: over positions). */
  accuracy(targets: tf.Tensor, outputs: tf.Tensor): tf.Scalar;
  /** Predictions per example (1 for a classifier, T for next-token windows). */
  unitsPerExample(targets: tf.Tensor): number;
  /** Reports perplexity (exp of the mean token loss). */
  perplexity: boolean;
}

/** Per-token cross-entropy [b, T] of probabilities [b, T, V] against ids [b, T, 1], as tfjs-layers' sparse loss. */
export function tokenCrossEntropy(targets: tf.Tensor, probabilities: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const classes = probabilities.shape[probabilities.rank - 1] as number;
    const ids = tf.cast(tf.floor(tf.reshape(targets, [-1])), 'int32');
    const oneHot = tf.reshape(tf.oneHot(ids, classes), probabilities.shape);
    const clipped = tf.clipByValue(probabilities, 1e-7, 1 - 1e-7);
    return tfl.metrics.categoricalCrossentropy(oneHot, clipped);
  });
}

const CLASSIFICATION: Objective = {
  task: 'classification',
  compiledLoss: 'categoricalCrossentropy',
  perExampleLoss: (y, p) => tfl.metrics.categoricalCrossentropy(y, p) as tf.Tensor1D,
  loss: (y, p) => tf.tidy(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, p)) as tf.Scalar),
  accuracy: (y, p) => tf.tidy(() => tf.mean(tfl.metrics.categoricalAccuracy(y, p)) as tf.Scalar),
  unitsPerExample: () => 1,
  perplexity: false,
};

const NEXT_TOKEN: Objective = {
  task: 'next-token',
  compiledLoss: 'sparseCategoricalCrossentropy',
  perExampleLoss: (y, p) => tf.tidy(() => tf.mean(tokenCrossEntropy(y, p), -1) as tf.Tensor1D),
  loss: (y, p) => tf.tidy(() => tf.mean(tokenCrossEntropy(y, p)) as tf.Scalar),
  accuracy: (y, p) =>
    tf.tidy(() => tf.mean(tfl.metrics.sparseCategoricalAccuracy(y, p)) as tf.Scalar),
  unitsPerExample: (y) => y.shape[1] as number,
  perplexity: true,
};

export function objectiveFor(task: ExamplesTask): Objective {
  return task === 'next-token' ? NEXT_TOKEN : CLASSIFICATION;
}
