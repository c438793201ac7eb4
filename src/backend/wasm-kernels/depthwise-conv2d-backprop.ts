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
} from './compose.js';
import { transposedConvInput } from './conv2d-backprop-input.js';

/**
 * dx[b,i,j,c] = sum_m depthwise(dy[..., c·M + m] spread by the stride and padded, flipped
 * W[:, :, c, m]): one stock depthwise conv over the C·M channels of dy (multiplier 1), then a
 * sum over m.
 */
export const depthwiseConv2dBackpropInputKernel: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const dy = inputs['dy'] as TensorInfo;
    const filter = inputs['filter'] as TensorInfo;
    const a = attrs as unknown as ConvGradientAttrs & {
      inputShape: [number, number, number, number];
    };
    const filterShape = filter.shape as [number, number, number, number];
    const info = convGradientInfo(
      'DepthwiseConv2dNativeBackpropInput',
      a.inputShape,
      filterShape,
      a,
      true,
    );
    const [kh, kw, channels, multiplier] = filterShape;
    const convInput = transposedConvInput(backend, dy, info);
    const flipped = runWasmKernel('Reverse', backend, { x: filter }, { dims: [0, 1] });
    const perChannel = reshape(backend, flipped, [kh, kw, channels * multiplier, 1]);
    release(backend, flipped);
    const spread = runWasmKernel(
      'DepthwiseConv2dNative',
      backend,
      { x: convInput, filter: perChannel },
      { strides: [1, 1], pad: 'valid', dilations: [1, 1] },
    );
    release(backend, convInput, perChannel);
    if (multiplier === 1) return spread;
    const [batch, height, width] = spread.shape as [number, number, number, number];
    const grouped = reshape(backend, spread, [batch, height, width, channels, multiplier]);
    release(backend, spread);
    const out = runWasmKernel('Sum', backend, { x: grouped }, { axis: [4], keepDims: false });
    release(backend, grouped);
    return out;
  }) as KernelFunc,
};

/**
 * dW[p,q,c,m] = sum_{b,oh,ow} x[b, oh·s + p - pTop, ow·s + q - pLeft, c] · dy[b,oh,ow,c·M + m].
 * Read as one stock depthwise conv whose channels are (c, b), whose input is x padded and laid
 * out [1, H, W, C·B], and whose filter is dy laid out [OH, OW, C·B, M], dilated by the stride;
 * the sum over b follows.
 */
export const depthwiseConv2dBackpropFilterKernel: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    const dy = inputs['dy'] as TensorInfo;
    const a = attrs as unknown as ConvGradientAttrs & {
      filterShape: [number, number, number, number];
    };
    const xShape = x.shape as [number, number, number, number];
    const info = convGradientInfo(
      'DepthwiseConv2dNativeBackpropFilter',
      xShape,
      a.filterShape,
      a,
      true,
    );
    const [kh, kw, channels, multiplier] = a.filterShape;
    const [batch] = xShape;
    const { outHeight, outWidth, strideHeight, strideWidth } = info;
    const { top, bottom, left, right } = info.padInfo;
    const padded = pad(backend, x, [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ]);
    const [, paddedH, paddedW] = padded.shape as [number, number, number, number];
    const channelsByBatch = transpose(backend, padded, [1, 2, 3, 0]);
    release(backend, padded);
    const input = reshape(backend, channelsByBatch, [1, paddedH, paddedW, channels * batch]);
    release(backend, channelsByBatch);
    const dyGrouped = reshape(backend, dy, [batch, outHeight, outWidth, channels, multiplier]);
    const dyByChannel = transpose(backend, dyGrouped, [1, 2, 3, 0, 4]);
    release(backend, dyGrouped);
    const dyFilter = reshape(backend, dyByChannel, [
      outHeight,
      outWidth,
      channels * batch,
      multiplier,
    ]);
    release(backend, dyByChannel);
    const full = runWasmKernel(
      'DepthwiseConv2dNative',
      backend,
      { x: input, filter: dyFilter },
      { strides: [1, 1], pad: 'valid', dilations: [strideHeight, strideWidth] },
    );
    release(backend, input, dyFilter);
    const [, fullH, fullW] = full.shape as [number, number, number, number];
    const perBatch = reshape(backend, full, [fullH, fullW, channels, batch, multiplier]);
    release(backend, full);
    const cropped = slice(
      backend,
      perBatch,
      [0, 0, 0, 0, 0],
      [kh, kw, channels, batch, multiplier],
    );
    release(backend, perBatch);
    const out = runWasmKernel('Sum', backend, { x: cropped }, { axis: [3], keepDims: false });
    release(backend, cropped);
    return out;
  }) as KernelFunc,
};
