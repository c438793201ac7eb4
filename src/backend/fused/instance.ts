import { FUSED_WASM_BASE64 } from './fused-binary.js';

/** The exports of fused.wat. Pointers are byte offsets into tfjs-backend-wasm's memory. */
export interface FusedExports {
  dot(x: number, y: number, n: number): number;
  gram(x: number, y: number, n: number): [number, number, number];
  anyNonFinite(x: number, n: number): number;
  axpby(a: number, x: number, b: number, y: number, out: number, n: number): void;
  sgdStep(
    a: number,
    g1: number,
    b: number,
    g2: number,
    w: number,
    decay: number,
    v: number,
    mu: number,
    c: number,
    outW: number,
    outV: number,
    flags: number,
    n: number,
  ): number;
  matmul(
    a: number,
    b: number,
    out: number,
    m: number,
    k: number,
    n: number,
    stride: number,
    rowStrideA: number,
    colStrideA: number,
    accumulate: number,
    blocksB: number,
    blockRowBytes: number,
    blockStride: number,
  ): void;
  packColumnBlocks(b: number, packed: number, k: number, n: number): void;
  packTransposedColumnBlocks(w: number, packed: number, k: number, n: number): void;
  transpose2d(src: number, dst: number, rows: number, cols: number): void;
  sumColumns(
    src: number,
    dst: number,
    outer: number,
    reduced: number,
    inner: number,
    divisor: number,
  ): void;
}

interface EmscriptenWasmModule {
  asm?: { memory?: unknown };
}

const instances = new WeakMap<WebAssembly.Memory, FusedExports>();
let compiled: WebAssembly.Module | null | undefined;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The compiled module, or null where this engine lacks WebAssembly SIMD or multi-value. */
function fusedModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = decodeBase64(FUSED_WASM_BASE64);
    compiled =
      typeof WebAssembly === 'object' && WebAssembly.validate(bytes)
        ? new WebAssembly.Module(bytes)
        : null;
  }
  return compiled;
}

/**
 * The fused kernels instantiated over the memory of a tfjs-backend-wasm backend (`backend.wasm`),
 * or null when that memory is not reachable or is shared (the multi-threaded build), or the
 * engine cannot run the module.
 */
export function fusedKernelsFor(backend: object): FusedExports | null {
  const wasm = (backend as { wasm?: EmscriptenWasmModule }).wasm;
  const memory = wasm?.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) return null;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) {
    return null;
  }
  const existing = instances.get(memory);
  if (existing !== undefined) return existing;
  const module = fusedModule();
  if (module === null) return null;
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as unknown as FusedExports;
  instances.set(memory, exports);
  return exports;
}
