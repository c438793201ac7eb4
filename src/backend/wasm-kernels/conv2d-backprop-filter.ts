import type * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import {
  convGradientInfo,
  pad,
  release,
  reshape,
  runWasmKernel,
  slice,
  transpose,
  type ConvGradientAttrs,
  type Shape4D,
} from './compose.js';
import { allocate, floatView } from '../heap.js';

/** Up to this many input channels the im2col + matmul form is the faster one (measured). */
const IM2COL_MAX_IN_CHANNELS = 4;

/**
 * Patches of x as rows: patches[(p·kw + q)·ci + c][(b·oh + i)·ow + j] = x[b, i·s + p - pTop,
 * j·s + q - pLeft, c] (0 outside x), so that patches · dy[n, co] = dW laid out [kh, kw, ci, co].
 */
function transposedPatches(
  backend: object,
  x: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth } = info;
  const columns = batchSize * outHeight * outWidth;
  const out = allocate(backend, [filterHeight * filterWidth * inChannels, columns], 'float32');
  const xs = floatView(backend, x);
  const patches = floatView(backend, out);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  let to = 0;
  for (let p = 0; p < filterHeight; p++)
    for (let q = 0; q < filterWidth; q++)
      for (let c = 0; c < inChannels; c++)
        for (let b = 0; b < batchSize; b++)
          for (let i = 0; i < outHeight; i++) {
            const row = i * strideHeight + p - top;
            if (row < 0 || row >= inHeight) {
              patches.fill(0, to, to + outWidth);
              to += outWidth;
              continue;
            }
            const rowStart = (b * inHeight + row) * inWidth;
            for (let j = 0; j < outWidth; j++, to++) {
              const col = j * strideWidth + q - left;
              patches[to] = col >= 0 && col < inWidth ? xs[(rowStart + col) * inChannels + c]! : 0;
            }
          }
  return out;
}

/**
 * dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s+kh-pTop, ow*s+kw-pLeft, ci] * dy[b,oh,ow,co].
 * Read as a convolution whose batch is ci, whose channels are b, and whose filter is dy
 * dilated by the stride: one fast wasm Conv2D. With few input channels (a network's first
 * layer), one matmul of x's patches by dy is faster.
 */
export const conv2dBackpropFilterKernel: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const dy = inputs['dy'] as TensorInfo;
    const a = attrs as unknown as ConvGradientAttrs & { filterShape: Shape4D };
    const info = convGradientInfo('Conv2DBackpropFilter', x.shape as Shape4D, a.filterShape, a);
    if (x.dtype === 'float32' && info.inChannels <= IM2COL_MAX_IN_CHANNELS) {
      const patches = transposedPatches(backend, x, info);
      const dyRows = reshape(backend, dy, [1, patches.shape[1]!, info.outChannels]);
      const patchRows = reshape(backend, patches, [1, ...patches.shape]);
      release(backend, patches);
      const product = runWasmKernel('BatchMatMul', backend, { a: patchRows, b: dyRows });
      release(backend, patchRows, dyRows);
      const out = reshape(backend, product, a.filterShape);
      release(backend, product);
      return out;
    }
    const { top, bottom, left, right } = info.padInfo;
    const padded = pad(backend, x, [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ]);
    const xAsBatch = transpose(backend, padded, [3, 1, 2, 0]);
    release(backend, padded);
    const dyAsFilter = transpose(backend, dy, [1, 2, 0, 3]);
    const full = runWasmKernel(
      'Conv2D',
      backend,
      { x: xAsBatch, filter: dyAsFilter },
      {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [info.strideHeight, info.strideWidth],
        dimRoundingMode: undefined as unknown as string,
      },
    );
    release(backend, xAsBatch, dyAsFilter);
    const [ci, , , co] = full.shape as [number, number, number, number];
    const cropped = slice(
      backend,
      full,
      [0, 0, 0, 0],
      [ci, info.filterHeight, info.filterWidth, co],
    );
    release(backend, full);
    const out = transpose(backend, cropped, [1, 2, 0, 3]);
    release(backend, cropped);
    return out;
  }) as KernelFunc,
};
