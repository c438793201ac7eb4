import { broadcast_util, util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { release, reshape, transpose } from './compose.js';
import { allocate, floatView, heapView } from '../heap.js';
import { fusedKernelsFor, type FusedExports } from '../fused/instance.js';
import { transposeLastTwo } from './transpose.js';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/** Measured on the shapes of docs/BENCHMARKS.md: 64 beat 32–1024 for k = 4096 (48 vs 27 GFLOP/s unsliced). */
const DEPTH_SLICE = 64;
/** Tiles of out of 256 × 256 floats (256 KiB): one stays in L2 while the slices of k add to it. */
const ROW_TILE = 256;
const COLUMN_TILE = 256;

/**
 * Rows of `floats` float32 values whose length is a multiple of `bytes`: successive rows fall
 * into a few L1 cache sets and evict each other. Measured: B with rows of 4 KiB (n = 1024) halves
 * the matmul's speed and 1 KiB costs 7 %; a transposed A read down its columns loses half at 4 KiB
 * and nothing at 1 KiB.
 */
const cacheAliased = (floats: number, bytes: number) =>
  floats * 4 >= bytes && (floats * 4) % bytes === 0;

const product = (dims: number[]) => util.sizeFromShape(dims);

/** For each item of the output batch, the index of the item of an input with batch shape `batch`. */
function itemIndices(outBatch: number[], batch: number[]): number[] {
  const offset = outBatch.length - batch.length;
  const indices: number[] = [];
  const items = product(outBatch);
  for (let item = 0; item < items; item++) {
    let rest = item;
    let index = 0;
    let stride = 1;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const size = outBatch[d]!;
      const coordinate = rest % size;
      rest = Math.floor(rest / size);
      const own = d >= offset ? batch[d - offset]! : 1;
      if (own !== 1) index += coordinate * stride;
      stride *= own;
    }
    indices.push(index);
  }
  return indices;
}

/**
 * Every float32 product through the SIMD matmul of fused.wat (plus a bias of one value per
 * column when given), one call per batch item: A's transpose is read in place through its
 * strides (or transposed explicitly when its rows alias in the cache); B's is packed straight
 * from its rows into column blocks when n is a multiple of 8, else transposed explicitly; batches
 * broadcast as numpy does.
 */
export function simdBatchMatMul(
  fused: FusedExports,
  backend: object,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: TensorInfo | null = null,
): TensorInfo {
  const rankA = a.shape.length;
  const rankB = b.shape.length;
  const m = a.shape[transposeA ? rankA - 1 : rankA - 2]!;
  const k = a.shape[transposeA ? rankA - 2 : rankA - 1]!;
  const n = b.shape[transposeB ? rankB - 2 : rankB - 1]!;
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outBatch = broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  const out = allocate(backend, [...outBatch, m, n], 'float32');
  const blocks = Math.floor(n / 8);
  // B stored transposed is packed straight from its rows when its columns fill whole blocks.
  const packTransposed = transposeB && blocks > 0 && n % 8 === 0;
  const rowsOfB = transposeB && !packTransposed ? transposeLastTwo(fused, backend, b) : b;
  // A stored transposed is read down its columns; when its rows alias in the cache, transpose it.
  const readTransposed = transposeA && !cacheAliased(m, 4096);
  const rowsOfA = transposeA && !readTransposed ? transposeLastTwo(fused, backend, a) : a;
  const packed =
    packTransposed || (cacheAliased(n, 1024) && m >= 8 && blocks > 0)
      ? allocate(backend, [blocks * 8 * k], 'float32')
      : null;
  if (bias !== null) {
    // Every row of out starts as the bias and the products are added to it (XNNPACK's order).
    const rows = floatView(backend, out);
    if (rows.length > 0) {
      rows.set(floatView(backend, bias));
      for (let filled = n; filled < rows.length; filled *= 2)
        rows.copyWithin(filled, 0, Math.min(filled, rows.length - filled));
    }
  }
  const fromA = floatView(backend, rowsOfA).byteOffset;
  const fromB = floatView(backend, rowsOfB).byteOffset;
  const to = floatView(backend, out).byteOffset;
  const packedAt = packed === null ? 0 : floatView(backend, packed).byteOffset;
  const [rowStrideA, colStrideA] = readTransposed ? [4, 4 * m] : [4 * k, 4];
  // One product in tiles of ROW_TILE rows × COLUMN_TILE columns of out, each tile in slices of
  // DEPTH_SLICE along k that add to the last (same rounding as one pass): a slice's rows of A and
  // B stay in the L1 cache while the blocks sweep them, and the tile of out stays in L2.
  const product2d = (atA: number, atB: number, atOut: number, rows: number) => {
    if (k === 0 && bias !== null) return;
    if (packed !== null) {
      if (packTransposed) fused.packTransposedColumnBlocks(atB, packedAt, k, n);
      else fused.packColumnBlocks(atB, packedAt, k, n);
    }
    for (let row = 0; row < rows; row += ROW_TILE) {
      const height = Math.min(ROW_TILE, rows - row);
      for (let column = 0; column < n; column += COLUMN_TILE) {
        const width = Math.min(COLUMN_TILE, n - column);
        for (let p = 0; p < Math.max(k, 1); p += DEPTH_SLICE) {
          const depth = Math.min(DEPTH_SLICE, k - p);
          const sliceB = atB + (p * n + column) * 4;
          fused.matmul(
            atA + row * rowStrideA + p * colStrideA,
            sliceB,
            atOut + (row * n + column) * 4,
            height,
            depth,
            width,
            n,
            rowStrideA,
            colStrideA,
            p > 0 || bias !== null ? 1 : 0,
            packed === null ? sliceB : packedAt + (column / 8) * k * 32 + p * 32,
            packed === null ? n * 4 : 32,
            packed === null ? 32 : k * 32,
          );
        }
      }
    }
  };
  if (product(batchB) === 1 && !readTransposed) {
    // B shared by every item: A's items are consecutive rows of one product.
    product2d(fromA, fromB, to, product(outBatch) * m);
  } else {
    const itemsA = itemIndices(outBatch, batchA);
    const itemsB = itemIndices(outBatch, batchB);
    for (let item = 0; item < itemsA.length; item++) {
      product2d(
        fromA + itemsA[item]! * m * k * 4,
        fromB + itemsB[item]! * k * n * 4,
        to + item * m * n * 4,
        m,
      );
    }
  }
  if (rowsOfB !== b) release(backend, rowsOfB);
  if (rowsOfA !== a) release(backend, rowsOfA);
  if (packed !== null) release(backend, packed);
  return out;
}

function copyBlock(backend: object, from: TensorInfo, offset: number, to: TensorInfo): void {
  const target = heapView(backend, to);
  target.set(heapView(backend, from).subarray(offset, offset + target.length));
}

/**
 * The stock wasm BatchMatMul is fast (XNNPACK) only for one untransposed matrix pair; with a
 * transpose or a batch > 1 it runs a scalar loop. Where the fused SIMD module runs (single-threaded
 * wasm with SIMD), every float32 product goes through its matmul, which also beats XNNPACK on the
 * untransposed shapes of our models (docs/BENCHMARKS.md). Elsewhere this transposes explicitly,
 * folds the batch of `a` into its rows when `b` has batch 1, and otherwise runs the XNNPACK path
 * once per batch item (equal batch shapes, or `a` with batch 1).
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
    const fused = fusedKernelsFor(backend);
    if (fused !== null) return simdBatchMatMul(fused, backend, a, b, transposeA, transposeB);
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
