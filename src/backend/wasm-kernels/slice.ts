import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, heapView, type HeapArray } from '../heap.js';

/** Below this many elements a plain loop copies a run faster than `TypedArray.set`. */
const SHORT_RUN = 32;

/**
 * Copies the slice as rows of `run` contiguous elements; an odometer over the axes before
 * `runAxis` walks the rows. A function of its own so that it is optimized once for all shapes.
 */
function copyRuns(
  source: HeapArray,
  target: HeapArray,
  shape: number[],
  strides: number[],
  begin: number[],
  size: number[],
  runAxis: number,
  run: number,
  total: number,
): void {
  const rank = shape.length;
  const rowStride = (axis: number) => (axis === rank - 1 ? 1 : strides[axis]!);
  const index = new Array<number>(runAxis).fill(0);
  let start = 0;
  for (let axis = 0; axis <= runAxis; axis++) start += begin[axis]! * rowStride(axis);
  const rows = total / run;
  let from = start;
  for (let row = 0, to = 0; row < rows; row++, to += run) {
    if (run >= SHORT_RUN) target.set(source.subarray(from, from + run), to);
    else for (let i = 0; i < run; i++) target[to + i] = source[from + i]!;
    // Odometer over the outer axes (runAxis - 1 … 0).
    let axis = runAxis - 1;
    while (axis >= 0) {
      index[axis]!++;
      from += rowStride(axis);
      if (index[axis]! < size[axis]!) break;
      from -= index[axis]! * rowStride(axis);
      index[axis] = 0;
      axis--;
    }
  }
}

/**
 * Slice by copying runs straight from the input's wasm heap view. The stock wasm Slice first
 * copies the whole input out of the heap (`readSync`) on every call, which makes the many small
 * slices of tfjs-core's Tile gradient cost a full copy each.
 */
export function makeSliceKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    if (x.dtype === 'string' || x.dtype === 'complex64')
      return original.kernelFunc({ inputs, backend, attrs });
    const [parsedBegin, parsedSize] = tf.slice_util.parseSliceParams(
      x,
      attrs?.['begin'] as number | number[],
      attrs?.['size'] as number | number[] | undefined,
    );
    const begin = parsedBegin as number[];
    const size = parsedSize as number[];
    const out = allocate(backend, size, x.dtype);
    const total = tf.util.sizeFromShape(size);
    if (total === 0) return out;
    const source = heapView(backend, x);
    const target = heapView(backend, out);
    const rank = x.shape.length;
    const strides = tf.util.computeStrides(x.shape);
    if (rank === 0 || tf.slice_util.isSliceContinous(x.shape, begin, size)) {
      const offset = tf.slice_util.computeFlatOffset(begin, strides);
      target.set(source.subarray(offset, offset + total));
      return out;
    }
    // Innermost axes copied whole join the run; the run ends at the first partial axis.
    let runAxis = rank - 1;
    let run = size[runAxis]!;
    while (runAxis > 0 && size[runAxis] === x.shape[runAxis]) {
      runAxis--;
      run *= size[runAxis]!;
    }
    copyRuns(source, target, x.shape, strides, begin, size, runAxis, run, total);
    return out;
  };
  return { kernelName: 'Slice', backendName: 'wasm', kernelFunc };
}
