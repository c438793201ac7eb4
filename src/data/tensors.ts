import * as tf from '@tensorflow/tfjs-core';
import { pixelsPerImage } from './dataset.js';
import type { ImageDataset } from './types.js';

/**
 * Images as a float32 NHWC tensor, [n, h, w, c]: raw bytes scaled to [0, 1], float images as
 * stored. `indices` picks (and orders) samples; all samples by default.
 */
export function imagesToTensor(dataset: ImageDataset, indices?: ArrayLike<number>): tf.Tensor4D {
  const pixels = pixelsPerImage(dataset);
  const rows = indices ?? { length: dataset.count };
  const values = new Float32Array(rows.length * pixels);
  const scale = dataset.images instanceof Uint8Array ? 255 : 1;
  for (let row = 0; row < rows.length; row++) {
    const index = indices ? (indices[row] as number) : row;
    if (!Number.isInteger(index) || index < 0 || index >= dataset.count) {
      throw new Error(`imagesToTensor: index ${index} is out of range 0..${dataset.count - 1}.`);
    }
    const source = index * pixels;
    const target = row * pixels;
    for (let p = 0; p < pixels; p++) {
      values[target + p] = (dataset.images[source + p] as number) / scale;
    }
  }
  const [height, width, channels] = dataset.shape;
  return tf.tensor4d(values, [rows.length, height, width, channels], 'float32');
}

export interface LabelTensorOptions {
  /** One-hot float32 [n, classes] (default) or int32 class indices [n]. */
  oneHot?: boolean;
}

/** Labels as a tensor: one-hot float32 [n, classes] or int32 [n]. */
export function labelsToTensor(
  labels: ArrayLike<number>,
  classes: number,
  { oneHot = true }: LabelTensorOptions = {},
): tf.Tensor {
  for (let row = 0; row < labels.length; row++) {
    const label = labels[row] as number;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new Error(
        `labelsToTensor: label ${label} at ${row} is out of range 0..${classes - 1}.`,
      );
    }
  }
  if (!oneHot) return tf.tensor1d(Int32Array.from(labels), 'int32');
  const values = new Float32Array(labels.length * classes);
  for (let row = 0; row < labels.length; row++) values[row * classes + (labels[row] as number)] = 1;
  return tf.tensor2d(values, [labels.length, classes], 'float32');
}
