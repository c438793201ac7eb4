import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocate, floatView } from '../heap.js';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/** Any windows: per-channel running maxima, then dy added at each argmax. */
function overlapping(
  xs: Float32Array,
  dys: Float32Array,
  dxs: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
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
}

/**
 * 2×2 windows with stride 2 that lie inside the input (the common pooling layer): each input
 * position is written once, dy at the first strict maximum of its window and 0 elsewhere.
 */
function twoByTwo(
  xs: Float32Array,
  dys: Float32Array,
  dxs: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): void {
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth } = info;
  if (outHeight * 2 < inHeight || outWidth * 2 < inWidth) dxs.fill(0);
  const rowStride = inWidth * channels;
  let dyIndex = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      const rowBase = (b * inHeight + yR * 2) * rowStride;
      for (let yC = 0; yC < outWidth; yC++, dyIndex += channels) {
        const p0 = rowBase + yC * 2 * channels;
        const p1 = p0 + channels;
        const p2 = p0 + rowStride;
        const p3 = p2 + channels;
        for (let d = 0; d < channels; d++) {
          let best = -Infinity;
          let at = -1;
          const v0 = xs[p0 + d]!;
          if (v0 > best) {
            best = v0;
            at = 0;
          }
          const v1 = xs[p1 + d]!;
          if (v1 > best) {
            best = v1;
            at = 1;
          }
          const v2 = xs[p2 + d]!;
          if (v2 > best) {
            best = v2;
            at = 2;
          }
          if (xs[p3 + d]! > best) at = 3;
          const g = dys[dyIndex + d]!;
          dxs[p0 + d] = at === 0 ? g : 0;
          dxs[p1 + d] = at === 1 ? g : 0;
          dxs[p2 + d] = at === 2 ? g : 0;
          dxs[p3 + d] = at === 3 ? g : 0;
        }
      }
    }
  }
}

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
    const dx = allocate(backend, input.shape, 'float32');
    const xs = floatView(backend, input);
    const dys = floatView(backend, dy);
    const dxs = floatView(backend, dx);
    const twoByTwoInside =
      info.effectiveFilterHeight === 2 &&
      info.effectiveFilterWidth === 2 &&
      info.strideHeight === 2 &&
      info.strideWidth === 2 &&
      info.padInfo.top === 0 &&
      info.padInfo.left === 0 &&
      info.outHeight * 2 <= info.inHeight &&
      info.outWidth * 2 <= info.inWidth;
    if (twoByTwoInside) twoByTwo(xs, dys, dxs, info);
    else overlapping(xs, dys, dxs, info);
    return dx;
  };
  return { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc };
}
