import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, heapView } from '../heap.js';

/**
 * OneHot for every dtype. The stock wasm kernel writes int32 values whatever the requested dtype,
 * so `tf.oneHot(ids, depth, 1, 0, 'float32')` holds the bit patterns of the integers 1 and 0 as
 * floats (1.4e−45 instead of 1); a softmax cross-entropy gradient built on it silently loses its
 * target term. Here a non-int32 one-hot is written on the heap directly (fill with offValue, one
 * onValue per row); int32 stays with the stock kernel.
 */
export function makeOneHotKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const { dtype, depth, onValue, offValue } = attrs as unknown as {
      dtype: 'float32' | 'int32';
      depth: number;
      onValue: number;
      offValue: number;
    };
    if (dtype === 'int32') return original.kernelFunc({ inputs, backend, attrs });
    const indices = inputs['indices'] as TensorInfo;
    const out = allocate(backend, [...indices.shape, depth], dtype);
    const values = heapView(backend, out);
    const ids = heapView(backend, indices);
    values.fill(offValue);
    for (let row = 0; row < ids.length; row++) {
      const id = ids[row] as number;
      if (id >= 0 && id < depth) values[row * depth + id] = onValue;
    }
    return out;
  };
  return { kernelName: 'OneHot', backendName: 'wasm', kernelFunc };
}
