import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** The part of tfjs-backend-wasm's BackendWasm that JS kernels on the wasm heap use. */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): HeapArray;
}

function asHeapBackend(backend: object): WasmHeapBackend {
  const b = backend as Partial<WasmHeapBackend>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') {
    throw new Error(
      'expected the tfjs-backend-wasm backend (makeOutput, typedArrayFromHeap); ' +
        'these kernels are registered for wasm only',
    );
  }
  return b as WasmHeapBackend;
}

/** Allocates an output tensor on the wasm heap (contents uninitialized). */
export function allocate(backend: object, shape: number[], dtype: DataType): TensorInfo {
  return asHeapBackend(backend).makeOutput(shape, dtype);
}

/**
 * A view (not a copy) of a tensor's values on the wasm heap. Allocating may grow the heap and
 * detach earlier views: take views after the last allocation of a kernel.
 */
export function heapView(backend: object, info: TensorInfo): HeapArray {
  return asHeapBackend(backend).typedArrayFromHeap(info);
}

export function floatView(backend: object, info: TensorInfo): Float32Array {
  const view = heapView(backend, info);
  if (!(view instanceof Float32Array))
    throw new Error(`expected a float32 tensor on the wasm heap, got dtype '${info.dtype}'`);
  return view;
}
