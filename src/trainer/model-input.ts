import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * `xs` in the shape `model` takes. The data sets hold each sample as [height, width, channels]
 * (tabular features as [1, 1, features]); a model whose input is another shape of the same size
 * ([features], [28, 28], …) gets the samples reshaped, row-major. Returns `xs` itself when the
 * shapes agree or the model's input has a free dimension.
 */
export function toModelInput(model: tfl.LayersModel, xs: tf.Tensor): tf.Tensor {
  const dims = model.inputs[0]?.shape.slice(1);
  if (dims === undefined || dims.some((dim) => dim == null)) return xs;
  const same = dims.length === xs.rank - 1 && dims.every((dim, i) => dim === xs.shape[i + 1]);
  return same ? xs : tf.reshape(xs, [xs.shape[0] as number, ...(dims as number[])]);
}
