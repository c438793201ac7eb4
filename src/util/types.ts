import type * as tf from '@tensorflow/tfjs-core';

/** `{name, tensor}`: tfjs-core uses this shape for optimizer weights but does not export it. */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}
