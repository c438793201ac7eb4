/**
 * What the trainer minimizes and reports, by task: classification (one class per example, one-hot
 * targets, the model's probabilities, categorical cross-entropy, accuracy — the loss `model.compile`
 * gets, so the plain step is `trainOnBatch`) or next-token prediction (targets [b, T, 1] of ids, the
 * language model's logits, the mean softmax cross-entropy over tokens computed fused
 * (`sparseSoftmaxCrossEntropy`), next-token accuracy and perplexity = exp(mean token loss); its
 * steps minimize that closure, since tfjs-layers' compiled losses work on probabilities, whose
 * elementwise chain over [b, T, vocabulary] would dominate the step).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { ExamplesTask } from '../data/examples.js';
import { sparseSoftmaxCrossEntropy } from '../math/cross-entropy.js';

export interface Objective {
  task: ExamplesTask;
  /** For `model.compile`: the loss name (its metric 'accuracy' follows the loss). */
  compiledLoss: 'categoricalCrossentropy' | 'sparseCategoricalCrossentropy';
  /**
   * The plain step is `model.trainOnBatch` on the compiled loss (true), or `optimizer.minimize` on
   * {@link Objective.loss} (false: the compiled loss is then only recorded with the saved model).
   */
  trainsOnCompiledLoss: boolean;
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

/** Per-token cross-entropy [b, T] of logits [b, T, V] against ids [b, T, 1]. */
export function tokenCrossEntropy(targets: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const classes = logits.shape[logits.rank - 1] as number;
    const rows = tf.reshape(logits, [-1, classes]) as tf.Tensor2D;
    const ids = tf.reshape(targets, [-1]) as tf.Tensor1D;
    return tf.reshape(sparseSoftmaxCrossEntropy(rows, ids), logits.shape.slice(0, -1));
  });
}

/** Share of positions whose largest logit is the target id. */
function tokenAccuracy(targets: tf.Tensor, logits: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const ids = tf.reshape(tf.cast(targets, 'int32'), logits.shape.slice(0, -1));
    return tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), ids), 'float32')) as tf.Scalar;
  });
}

const CLASSIFICATION: Objective = {
  task: 'classification',
  compiledLoss: 'categoricalCrossentropy',
  trainsOnCompiledLoss: true,
  perExampleLoss: (y, p) => tfl.metrics.categoricalCrossentropy(y, p) as tf.Tensor1D,
  loss: (y, p) => tf.tidy(() => tf.mean(tfl.metrics.categoricalCrossentropy(y, p)) as tf.Scalar),
  accuracy: (y, p) => tf.tidy(() => tf.mean(tfl.metrics.categoricalAccuracy(y, p)) as tf.Scalar),
  unitsPerExample: () => 1,
  perplexity: false,
};

const NEXT_TOKEN: Objective = {
  task: 'next-token',
  compiledLoss: 'sparseCategoricalCrossentropy',
  trainsOnCompiledLoss: false,
  perExampleLoss: (y, p) => tf.tidy(() => tf.mean(tokenCrossEntropy(y, p), -1) as tf.Tensor1D),
  loss: (y, p) => tf.tidy(() => tf.mean(tokenCrossEntropy(y, p)) as tf.Scalar),
  accuracy: tokenAccuracy,
  unitsPerExample: (y) => y.shape[1] as number,
  perplexity: true,
};

export function objectiveFor(task: ExamplesTask): Objective {
  return task === 'next-token' ? NEXT_TOKEN : CLASSIFICATION;
}
