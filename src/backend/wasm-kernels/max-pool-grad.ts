import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, floatView } from './heap.js';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/**
 * dx for a 2-D max pool, as a loop over the wasm heap. Each window sends dy to one position:
 * the first strict maximum in row-major window order, like tfjs-backend-cpu (a window whose
 * values are all NaN or -Infinity sends nothing). Channels are the inner loop, so memory is
 * read in order.
 */
export function makeMaxPoolGradKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const dy = inputs['dy'] as TensorInfo;
    const input = inputs['input'] as TensorInfo;
    if (input.dtype !== 'float32' || dy.dtype !== 'float32')
      return original.kernelFunc({ inputs, backend, attrs });
    const a = attrs as unknown as {
      filterSize: [number, number] | number;
      strides: [number, number] | number;
      pad: Pad;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const info = tf.backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
    const dx = allocate(backend, input.shape, 'float32');
    const xs = floatView(backend, input);
    const dys = floatView(backend, dy);
    const dxs = floatView(backend, dx);
    dxs.fill(0);
    const channels = inChannels;
    const best = new Float32Array(channels);
    const where = new Int32Array(channels);
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    let dyIndex = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let yR = 0; yR < outHeight; yR++) {
        const rowCorner = yR * info.strideHeight - top;
        const rowStart = Math.max(rowCorner, 0);
        const rowEnd = Math.min(inHeight, rowCorner + info.effectiveFilterHeight);
        for (let yC = 0; yC < outWidth; yC++) {
          const colCorner = yC * info.strideWidth - left;
          const colStart = Math.max(colCorner, 0);
          const colEnd = Math.min(inWidth, colCorner + info.effectiveFilterWidth);
          best.fill(-Infinity);
          where.fill(-1);
          for (let xR = rowStart; xR < rowEnd; xR++) {
            for (let xC = colStart; xC < colEnd; xC++) {
              const base = ((b * inHeight + xR) * inWidth + xC) * channels;
              for (let d = 0; d < channels; d++) {
                const v = xs[base + d]!;
                if (v > best[d]!) {
                  best[d] = v;
                  where[d] = base + d;
                }
              }
            }
          }
          for (let d = 0; d < channels; d++, dyIndex++) {
            const target = where[d]!;
            if (target >= 0) dxs[target] = dxs[target]! + dys[dyIndex]!;
          }
        }
      }
    }
    return dx;
  };
  return { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc };
}
