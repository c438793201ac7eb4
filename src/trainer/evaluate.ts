/** Evaluation of a trained model on a dataset (the trainer's validation and test figures). */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  examplesTask,
  exampleTensors,
  isImageDataset,
  outputClasses,
  type Examples,
} from '../data/examples.js';
import { toModelInput } from './model-input.js';
import { objectiveFor } from './objective.js';

export interface Evaluation {
  /** Mean loss per prediction (per example; next-token: per token). */
  loss: number;
  accuracy: number;
  /** exp(loss) for next-token windows. */
  perplexity?: number;
}

/**
 * Loss and accuracy of `model` on a whole dataset, in batches (next-token windows: the mean token
 * loss, next-token accuracy and the perplexity, in batches small enough for the [b, T, V] output).
 */
export function evaluate(
  model: tfl.LayersModel,
  dataset: Examples | null | undefined,
  batchSize = 500,
): Evaluation | null {
  if (dataset == null || dataset.count === 0) return null;
  const objective = objectiveFor(examplesTask(dataset));
  const units = objective.task === 'next-token' && !isImageDataset(dataset) ? dataset.seqLength : 1;
  const rows =
    units > 1
      ? Math.max(1, Math.min(batchSize, Math.floor(4e6 / (units * outputClasses(dataset)))))
      : batchSize;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < dataset.count; start += rows) {
    const indices = Int32Array.from(
      { length: Math.min(rows, dataset.count - start) },
      (_, i) => start + i,
    );
    const [loss, hits] = tf.tidy(() => {
      const { xs, ys } = exampleTensors(dataset, indices);
      const outputs = model.predict(toModelInput(model, xs)) as tf.Tensor;
      if (objective.task === 'next-token') {
        return [
          tf.sum(objective.perExampleLoss(ys, outputs)).dataSync()[0] as number,
          (objective.accuracy(ys, outputs).dataSync()[0] as number) * indices.length,
        ];
      }
      const clipped = tf.clipByValue(outputs, 1e-7, 1 - 1e-7);
      const total = tf.neg(tf.sum(tf.mul(ys, tf.log(clipped))));
      const matches = tf.sum(tf.cast(tf.equal(tf.argMax(outputs, 1), tf.argMax(ys, 1)), 'float32'));
      return [total.dataSync()[0] as number, matches.dataSync()[0] as number];
    });
    lossSum += loss;
    correct += hits;
  }
  const loss = lossSum / dataset.count;
  return {
    loss,
    accuracy: correct / dataset.count,
    ...(objective.perplexity ? { perplexity: Math.exp(loss) } : {}),
  };
}
