import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { release, transpose } from './compose.js';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * The stock wasm BatchMatMul falls back to a scalar loop when an operand is transposed.
 * This transposes explicitly and calls the untransposed (fast) path of `original`.
 */
export function makeBatchMatMulKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const transposeA = Boolean(attrs?.['transposeA']);
    const transposeB = Boolean(attrs?.['transposeB']);
    const a = inputs['a'] as TensorInfo;
    const b = inputs['b'] as TensorInfo;
    if (!transposeA && !transposeB) {
      return original.kernelFunc({ inputs, backend, attrs });
    }
    const aT = transposeA ? transpose(backend, a, swapLastTwo(a.shape.length)) : a;
    const bT = transposeB ? transpose(backend, b, swapLastTwo(b.shape.length)) : b;
    const out = original.kernelFunc({
      inputs: { a: aT, b: bT },
      backend,
      attrs: { ...attrs, transposeA: false, transposeB: false },
    });
    if (transposeA) release(backend, aT);
    if (transposeB) release(backend, bT);
    return out;
  };
  return { kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc };
}
