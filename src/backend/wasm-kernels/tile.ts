import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { release, reshape, runWasmKernel } from './compose.js';

/**
 * tile(x, reps) as one broadcasting Multiply by ones: an axis with d = 1 or r = 1 broadcasts
 * in place; an axis with d > 1 and r > 1 is split into (r, d) with ones of shape (r, 1).
 */
export function makeTileKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const reps = attrs?.['reps'] as number[];
    const xShape: number[] = [];
    const onesShape: number[] = [];
    x.shape.forEach((d, i) => {
      const r = reps[i] ?? 1;
      if (d > 1 && r > 1) {
        xShape.push(1, d);
        onesShape.push(r, 1);
      } else {
        xShape.push(d);
        onesShape.push(r);
      }
    });
    // A rank-8 broadcast gave wrong results on wasm; ranks ≤ 4 are tested against cpu.
    if (xShape.length > 4) return original.kernelFunc({ inputs, backend, attrs });
    const spread = reshape(backend, x, xShape);
    const ones = runWasmKernel('Fill', backend, {}, { shape: onesShape, value: 1, dtype: x.dtype });
    const product = runWasmKernel('Multiply', backend, { a: ones, b: spread });
    release(backend, spread, ones);
    const out = reshape(
      backend,
      product,
      x.shape.map((d, i) => d * (reps[i] ?? 1)),
    );
    release(backend, product);
    return out;
  };
  return { kernelName: 'Tile', backendName: 'wasm', kernelFunc };
}
