import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, floatView } from './heap.js';

/**
 * Views `shape` as [outer, reduced, inner] when the reduced axes are contiguous (after dropping
 * size-1 axes); undefined otherwise.
 */
function asOuterReducedInner(
  shape: number[],
  axes: number[],
): { outer: number; reduced: number; inner: number } | undefined {
  const reducedAt = shape.map((d, i) => (d === 1 ? undefined : axes.includes(i)));
  const first = reducedAt.indexOf(true);
  if (first < 0) return undefined;
  const last = reducedAt.lastIndexOf(true);
  if (reducedAt.slice(first, last + 1).includes(false)) return undefined;
  const product = (from: number, to: number) => shape.slice(from, to).reduce((p, d) => p * d, 1);
  return {
    outer: product(0, first),
    reduced: product(first, last + 1),
    inner: product(last + 1, shape.length),
  };
}

/**
 * float32 Sum over axes that are not innermost, as one pass over the wasm heap with float64
 * accumulators (the order of additions of tfjs-backend-cpu). The stock wasm Sum transposes the
 * reduced axes innermost first; innermost reductions still go to it.
 */
export function makeSumKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const axes = tf.util.parseAxisParam(attrs?.['axis'] as number | number[], x.shape);
    const layout = x.dtype === 'float32' ? asOuterReducedInner(x.shape, axes) : undefined;
    if (layout === undefined || layout.inner === 1)
      return original.kernelFunc({ inputs, backend, attrs });
    const keepDims = Boolean(attrs?.['keepDims']);
    const outShape = keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    const out = allocate(backend, outShape, 'float32');
    const source = floatView(backend, x);
    const target = floatView(backend, out);
    const { outer, reduced, inner } = layout;
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      let from = o * reduced * inner;
      for (let r = 0; r < reduced; r++, from += inner)
        for (let i = 0; i < inner; i++) acc[i] = acc[i]! + source[from + i]!;
      target.set(acc, o * inner);
    }
    return out;
  };
  return { kernelName: 'Sum', backendName: 'wasm', kernelFunc };
}
