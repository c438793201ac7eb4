import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { release, reshape, runWasmKernel } from './compose.js';
import { allocate, heapView } from '../heap.js';

let scratch = new Float64Array(0);

/**
 * float32 or int32 x, int32 ids: one pass over the wasm heap adding each row of x into its segment
 * (float64 accumulators, rows in index order; ids outside [0, numSegments) are skipped, as on
 * cpu). Costs O(size of x), where a one-hot matmul costs O(size of x · numSegments).
 */
function segmentSumOnHeap(
  x: TensorInfo,
  ids: TensorInfo,
  numSegments: number,
  backend: object,
): TensorInfo {
  const trailing = x.shape.slice(ids.shape.length);
  const width = trailing.reduce((p, d) => p * d, 1);
  const out = allocate(backend, [numSegments, ...trailing], x.dtype);
  const xs = heapView(backend, x);
  const segments = heapView(backend, ids);
  const target = heapView(backend, out);
  const size = numSegments * width;
  if (scratch.length < size) scratch = new Float64Array(size);
  const acc = scratch;
  acc.fill(0, 0, size);
  for (let row = 0; row < segments.length; row++) {
    const segment = segments[row]!;
    if (!(segment >= 0 && segment < numSegments)) continue;
    const to = segment * width;
    const from = row * width;
    for (let i = 0; i < width; i++) acc[to + i] = acc[to + i]! + xs[from + i]!;
  }
  target.set(acc.subarray(0, size));
  return out;
}

/**
 * out[s, ...] = sum_{i: ids[i] = s} x[i, ...]: on the heap for float32/int32 x and int32 ids, otherwise
 * as oneHot(ids)^T · x (one matmul).
 * `ids` covers the leading dims of x (gather's gradient passes 1-D indices).
 */
export const unsortedSegmentSumKernel: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const ids = inputs['segmentIds'] as TensorInfo;
    const numSegments = Number(attrs?.['numSegments']);
    if ((x.dtype === 'float32' || x.dtype === 'int32') && ids.dtype === 'int32')
      return segmentSumOnHeap(x, ids, numSegments, backend);
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
