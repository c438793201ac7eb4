import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { release, reshape, runWasmKernel } from './compose.js';

/**
 * out[s, ...] = sum_{i: ids[i] = s} x[i, ...], written as oneHot(ids)^T · x (one matmul).
 * `ids` covers the leading dims of x (gather's gradient passes 1-D indices).
 */
export const unsortedSegmentSumKernel: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const ids = inputs['segmentIds'] as TensorInfo;
    const numSegments = Number(attrs?.['numSegments']);
    const count = ids.shape.reduce((p, d) => p * d, 1);
    const trailing = x.shape.slice(ids.shape.length);
    const width = trailing.reduce((p, d) => p * d, 1);
    const flatIds = reshape(backend, ids, [count]);
    const idsInt =
      ids.dtype === 'int32'
        ? flatIds
        : runWasmKernel('Cast', backend, { x: flatIds }, { dtype: 'int32' });
    // The wasm OneHot writes int32 values whatever dtype it is given: cast afterwards.
    const oneHotInt = runWasmKernel(
      'OneHot',
      backend,
      { indices: idsInt },
      {
        depth: numSegments,
        onValue: 1,
        offValue: 0,
        dtype: 'int32',
      },
    );
    const oneHot = runWasmKernel('Cast', backend, { x: oneHotInt }, { dtype: 'float32' });
    release(backend, oneHotInt);
    if (idsInt !== flatIds) release(backend, idsInt);
    release(backend, flatIds);
    const selector = runWasmKernel('Transpose', backend, { x: oneHot }, { perm: [1, 0] });
    release(backend, oneHot);
    const a = reshape(backend, selector, [1, numSegments, count]);
    release(backend, selector);
    const b = reshape(backend, x, [1, count, width]);
    const product = runWasmKernel(
      'BatchMatMul',
      backend,
      { a, b },
      { transposeA: false, transposeB: false },
    );
    release(backend, a, b);
    const out = reshape(backend, product, [numSegments, ...trailing]);
    release(backend, product);
    return out;
  }) as KernelFunc,
};
