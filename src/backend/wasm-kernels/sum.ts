import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, floatView } from '../heap.js';
import { fusedKernelsFor } from '../fused/instance.js';

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
 * target[o, i] = sum_r float32(source[o, r, i] / divisor), as tfjs-backend-cpu's Sum and Mean compute
 * it. Eight columns at a time in scalar (float64)
 * accumulators: a JS engine keeps them in registers, where an accumulator array costs a load
 * and a store per element. A function of its own so that it is optimized once for all shapes.
 */
function sumColumns(
  source: Float32Array,
  target: Float32Array,
  { outer, reduced, inner }: { outer: number; reduced: number; inner: number },
  divisor: number,
): void {
  for (let o = 0; o < outer; o++) {
    const base = o * reduced * inner;
    const end = base + reduced * inner;
    const at = o * inner;
    let i = 0;
    for (; i + 8 <= inner; i += 8) {
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0,
        s4 = 0,
        s5 = 0,
        s6 = 0,
        s7 = 0;
      for (let p = base + i; p < end; p += inner) {
        s0 += Math.fround(source[p]! / divisor);
        s1 += Math.fround(source[p + 1]! / divisor);
        s2 += Math.fround(source[p + 2]! / divisor);
        s3 += Math.fround(source[p + 3]! / divisor);
        s4 += Math.fround(source[p + 4]! / divisor);
        s5 += Math.fround(source[p + 5]! / divisor);
        s6 += Math.fround(source[p + 6]! / divisor);
        s7 += Math.fround(source[p + 7]! / divisor);
      }
      target[at + i] = s0;
      target[at + i + 1] = s1;
      target[at + i + 2] = s2;
      target[at + i + 3] = s3;
      target[at + i + 4] = s4;
      target[at + i + 5] = s5;
      target[at + i + 6] = s6;
      target[at + i + 7] = s7;
    }
    for (; i < inner; i++) {
      let sum = 0;
      for (let p = base + i; p < end; p += inner) sum += Math.fround(source[p]! / divisor);
      target[at + i] = sum;
    }
  }
}

/**
 * float32 Sum (or Mean) over axes that are not innermost, as one pass over the wasm heap with
 * float64 accumulators (the order of additions of tfjs-backend-cpu): the SIMD sumColumns of
 * fused.wat where it runs, else the same sums in JavaScript. The stock wasm Sum and Mean
 * transpose the reduced axes innermost first; innermost reductions still go to them.
 */
export function makeReductionKernel(original: KernelConfig, kind: 'Sum' | 'Mean'): KernelConfig {
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
    const divisor = kind === 'Mean' ? layout.reduced : 1;
    const source = floatView(backend, x);
    const target = floatView(backend, out);
    const fused = fusedKernelsFor(backend);
    if (fused === null) sumColumns(source, target, layout, divisor);
    else {
      const { outer, reduced, inner } = layout;
      fused.sumColumns(source.byteOffset, target.byteOffset, outer, reduced, inner, divisor);
    }
    return out;
  };
  return { kernelName: kind, backendName: 'wasm', kernelFunc };
}
