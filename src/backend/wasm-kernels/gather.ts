import { backend_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, heapView } from '../heap.js';

/**
 * GatherV2 as one memmove per gathered slice on the wasm heap. The stock kernel moves one
 * element at a time (15.7 ms for the text transformer's 4 096 × 128 embedding lookup, 0.5 ms
 * here). Int32 indices of numeric tensors; others go to the stock kernel. Indices out of range throw as the stock and cpu kernels do.
 */
export function makeGatherKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const indices = inputs['indices'] as TensorInfo;
    if (indices.dtype !== 'int32' || x.dtype === 'string' || x.dtype === 'complex64')
      return original.kernelFunc({ inputs, backend, attrs });
    const { axis, batchDims } = attrs as unknown as { axis: number; batchDims: number };
    const parsedAxis = util.parseAxisParam(axis, x.shape)[0]!;
    const info = backend_util.segment_util.collectGatherOpShapeInfo(
      x as never,
      indices as never,
      parsedAxis,
      batchDims,
    );
    const out = allocate(backend, info.outputShape, x.dtype);
    const ids = heapView(backend, indices);
    const axisSize = x.shape[parsedAxis]!;
    for (const id of ids) {
      if (!(id >= 0 && id < axisSize))
        throw new Error(`GatherV2: the index value ${id} is not in [0, ${axisSize - 1}]`);
    }
    if (util.sizeFromShape(info.outputShape) === 0) return out;
    const source = heapView(backend, x);
    const target = heapView(backend, out);
    const bytes = source.BYTES_PER_ELEMENT;
    const heap = new Uint8Array(source.buffer);
    const { batchSize, outerSize, dimSize, sliceSize } = info;
    const perBatch = ids.length / batchSize;
    const sliceBytes = sliceSize * bytes;
    let to = target.byteOffset;
    for (let b = 0; b < batchSize; b++) {
      for (let o = 0; o < outerSize; o++) {
        const block = source.byteOffset + (b * outerSize + o) * dimSize * sliceBytes;
        for (let i = 0; i < perBatch; i++) {
          const from = block + (ids[b * perBatch + i] as number) * sliceBytes;
          heap.copyWithin(to, from, from + sliceBytes);
          to += sliceBytes;
        }
      }
    }
    return out;
  };
  return { kernelName: 'GatherV2', backendName: 'wasm', kernelFunc };
}
