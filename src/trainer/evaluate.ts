/** Evaluation of a trained model on a dataset (the trainer's validation and test figures). */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { imagesToTensor, labelsToTensor } from '../data/tensors.js';
import type { ImageDataset } from '../data/types.js';
import { toModelInput } from './model-input.js';

/** Loss and accuracy of `model` on a whole dataset, in batches. */
export function evaluate(
  model: tfl.LayersModel,
  dataset: ImageDataset | null | undefined,
  batchSize = 500,
): { loss: number; accuracy: number } | null {
  if (dataset == null || dataset.count === 0) return null;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < dataset.count; start += batchSize) {
    const indices = Int32Array.from(
      { length: Math.min(batchSize, dataset.count - start) },
      (_, i) => start + i,
    );
    const [loss, hits] = tf.tidy(() => {
      const xs = imagesToTensor(dataset, indices);
      const labels = Int32Array.from(indices, (i) => dataset.labels[i] as number);
      const ys = labelsToTensor(labels, dataset.classes);
      const probabilities = model.predict(toModelInput(model, xs)) as tf.Tensor;
      const clipped = tf.clipByValue(probabilities, 1e-7, 1 - 1e-7);
      const total = tf.neg(tf.sum(tf.mul(ys, tf.log(clipped))));
      const matches = tf.sum(
        tf.cast(tf.equal(tf.argMax(probabilities, 1), tf.argMax(ys, 1)), 'float32'),
      );
      return [total.dataSync()[0] as number, matches.dataSync()[0] as number];
    });
    lossSum += loss;
    correct += hits;
  }
  return { loss: lossSum / dataset.count, accuracy: correct / dataset.count };
}
