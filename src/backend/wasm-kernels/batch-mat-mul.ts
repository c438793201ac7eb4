import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { release, reshape, transpose } from './compose.js';
import { allocate, heapView } from '../heap.js';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

const product = (dims: number[]) => dims.reduce((p, d) => p * d, 1);

function copyBlock(backend: object, from: TensorInfo, offset: number, to: TensorInfo): void {
  const target = heapView(backend, to);
  target.set(heapView(backend, from).subarray(offset, offset + target.length));
}

/**
 * The stock wasm BatchMatMul is fast (XNNPACK) only for one untransposed matrix pair; with a
 * transpose or a batch > 1 it runs a scalar loop. This transposes explicitly, folds the batch
 * of `a` into its rows when `b` has batch 1, and otherwise runs the fast path once per batch
 * item (equal batch shapes, or `a` with batch 1).
 */
export function makeBatchMatMulKernel(original: KernelConfig): KernelConfig {
  const fast = (backend: object, a: TensorInfo, b: TensorInfo): TensorInfo =>
    original.kernelFunc({
      inputs: { a, b },
      backend: backend as never,
      attrs: { transposeA: false, transposeB: false },
    }) as TensorInfo;

  const batched = (backend: object, a: TensorInfo, b: TensorInfo): TensorInfo | undefined => {
    const [m, k] = a.shape.slice(-2) as [number, number];
    const n = b.shape[b.shape.length - 1]!;
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const countA = product(batchA);
    const countB = product(batchB);
    if (countA <= 1 && countB <= 1) return undefined;
    if (countB === 1 && batchA.length >= batchB.length) {
      const rows = reshape(backend, a, [1, countA * m, k]);
      const flatB = reshape(backend, b, [1, k, n]);
      const folded = fast(backend, rows, flatB);
      release(backend, rows, flatB);
      const out = reshape(backend, folded, [...batchA, m, n]);
      release(backend, folded);
      return out;
    }
    const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
    if (!sameBatch && !(countA === 1 && batchA.length <= batchB.length)) return undefined;
    const outBatch = countA === 1 ? batchB : batchA;
    const out = allocate(backend, [...outBatch, m, n], 'float32');
    const blockA = allocate(backend, [1, m, k], 'float32');
    if (countA === 1) copyBlock(backend, a, 0, blockA);
    for (let i = 0; i < countB; i++) {
      if (countA > 1) copyBlock(backend, a, i * m * k, blockA);
      // A fresh b per item: the wasm kernel caches its packed weights by b's tensor id.
      const blockB = allocate(backend, [1, k, n], 'float32');
      copyBlock(backend, b, i * k * n, blockB);
      const item = fast(backend, blockA, blockB);
      heapView(backend, out).set(heapView(backend, item), i * m * n);
      release(backend, item, blockB);
    }
    release(backend, blockA);
    return out;
  };

  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const transposeA = Boolean(attrs?.['transposeA']);
    const transposeB = Boolean(attrs?.['transposeB']);
    const a = inputs['a'] as TensorInfo;
    const b = inputs['b'] as TensorInfo;
    if (a.dtype !== 'float32' || b.dtype !== 'float32')
      return original.kernelFunc({ inputs, backend, attrs });
    const aT = transposeA ? transpose(backend, a, swapLastTwo(a.shape.length)) : a;
    const bT = transposeB ? transpose(backend, b, swapLastTwo(b.shape.length)) : b;
    const out =
      batched(backend, aT, bT) ??
      original.kernelFunc({
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
