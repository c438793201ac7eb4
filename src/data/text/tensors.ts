import * as tf from '@tensorflow/tfjs-core';
import type { NextTokenDataset, TokenDataset } from './types.js';

function rowsOf(
  count: number,
  indices: ArrayLike<number> | undefined,
  owner: string,
): ArrayLike<number> {
  const rows = indices ?? Int32Array.from({ length: count }, (_, i) => i);
  for (let r = 0; r < rows.length; r++) {
    const index = rows[r] as number;
    if (!Number.isInteger(index) || index < 0 || index >= count) {
      throw new Error(`${owner}: index ${index} is out of range 0..${count - 1}.`);
    }
  }
  return rows;
}

/** Token ids of the rows at `indices` (all by default) as int32 [n, seqLength]. */
export function tokensToTensor(dataset: TokenDataset, indices?: ArrayLike<number>): tf.Tensor2D {
  const rows = rowsOf(dataset.count, indices, 'tokensToTensor');
  const width = dataset.seqLength;
  const values = new Int32Array(rows.length * width);
  for (let r = 0; r < rows.length; r++) {
    const index = rows[r] as number;
    values.set(dataset.tokens.subarray(index * width, (index + 1) * width), r * width);
  }
  return tf.tensor2d(values, [rows.length, width], 'int32');
}

/**
 * The inputs and next-token targets of the windows at `indices`: int32 [n, seqLength] (ids 0..T−1
 * of each window) and float32 [n, seqLength, 1] (ids 1..T), the target layout of tfjs-layers'
 * sparse categorical cross-entropy.
 */
export function windowsToTensors(
  dataset: NextTokenDataset,
  indices?: ArrayLike<number>,
): { xs: tf.Tensor2D; ys: tf.Tensor3D } {
  const rows = rowsOf(dataset.count, indices, 'windowsToTensors');
  const T = dataset.seqLength;
  const inputs = new Int32Array(rows.length * T);
  const targets = new Float32Array(rows.length * T);
  for (let r = 0; r < rows.length; r++) {
    const start = (rows[r] as number) * (T + 1);
    inputs.set(dataset.tokens.subarray(start, start + T), r * T);
    targets.set(dataset.tokens.subarray(start + 1, start + T + 1), r * T);
  }
  return {
    xs: tf.tensor2d(inputs, [rows.length, T], 'int32'),
    ys: tf.tensor3d(targets, [rows.length, T, 1], 'float32'),
  };
}
