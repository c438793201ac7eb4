import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { pad, release, requireNhwc, runWasmKernel, slice, transpose } from './compose.js';

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/**
 * dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s+kh-pTop, ow*s+kw-pLeft, ci] * dy[b,oh,ow,co].
 * Read as a convolution whose batch is ci, whose channels are b, and whose filter is dy
 * dilated by the stride: one fast wasm Conv2D.
 */
export const conv2dBackpropFilterKernel: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const dy = inputs['dy'] as TensorInfo;
    const a = attrs as unknown as {
      strides: [number, number] | number;
      pad: Pad;
      dataFormat?: string;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
      filterShape: [number, number, number, number];
    };
    requireNhwc('Conv2DBackpropFilter', a.dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      a.filterShape,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
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
