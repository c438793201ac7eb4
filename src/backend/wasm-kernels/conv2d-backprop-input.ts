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

/**
 * The input of the stride-1 convolution that computes a strided convolution's input gradient:
 * dy with (stride - 1) zeros between rows and columns, padded by (kernel - 1 - pad) (cropped
 * where that is negative) so that a valid convolution with the flipped filter returns the
 * input's height and width.
 */
export function transposedConvInput(
  backend: object,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const [batch, outH, outW, outC] = dy.shape as [number, number, number, number];
  const sh = info.strideHeight;
  const sw = info.strideWidth;
  const kh = info.effectiveFilterHeight;
  const kw = info.effectiveFilterWidth;
  const { inHeight: inH, inWidth: inW } = info;

  let dilated = dy;
  if (sh > 1 || sw > 1) {
    const spread = reshape(backend, dy, [batch, outH, 1, outW, 1, outC]);
    const zeros = pad(backend, spread, [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ]);
    release(backend, spread);
    const flat = reshape(backend, zeros, [batch, outH * sh, outW * sw, outC]);
    release(backend, zeros);
    dilated = slice(
      backend,
      flat,
      [0, 0, 0, 0],
      [batch, (outH - 1) * sh + 1, (outW - 1) * sw + 1, outC],
    );
    release(backend, flat);
  }
  const dilatedH = (outH - 1) * sh + 1;
  const dilatedW = (outW - 1) * sw + 1;
  const padTop = kh - 1 - info.padInfo.top;
  const padLeft = kw - 1 - info.padInfo.left;
  const padBottom = inH + kh - 1 - dilatedH - padTop;
  const padRight = inW + kw - 1 - dilatedW - padLeft;
  // Negative padding means cropping: pad by the positive parts, then slice.
  const padded = pad(backend, dilated, [
    [0, 0],
    [Math.max(padTop, 0), Math.max(padBottom, 0)],
    [Math.max(padLeft, 0), Math.max(padRight, 0)],
    [0, 0],
  ]);
  if (dilated !== dy) release(backend, dilated);
  let convInput = padded;
  if (padTop < 0 || padLeft < 0 || padBottom < 0 || padRight < 0) {
    const h = dilatedH + padTop + padBottom;
    const w = dilatedW + padLeft + padRight;
    convInput = slice(
      backend,
      padded,
      [0, Math.max(-padTop, 0), Math.max(-padLeft, 0), 0],
      [batch, h, w, outC],
    );
    release(backend, padded);
  }
  return convInput;
}

/**
 * dx = conv2d(dilate(dy, stride) padded by (k-1-pad), flip(W) with in/out swapped), stride 1.
 * The stride dilation is done with reshape + pad (zeros between rows/columns).
 */
export const conv2dBackpropInputKernel: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: 'wasm',
  kernelFunc: (({ inputs, backend, attrs }) => {
    const dy = inputs['dy'] as TensorInfo;
    const filter = inputs['filter'] as TensorInfo;
    const a = attrs as unknown as ConvGradientAttrs & { inputShape: Shape4D };
    const info = convGradientInfo('Conv2DBackpropInput', a.inputShape, filter.shape as Shape4D, a);
    const convInput = transposedConvInput(backend, dy, info);
    const flipped = runWasmKernel('Reverse', backend, { x: filter }, { dims: [0, 1] });
    const swapped = transpose(backend, flipped, [0, 1, 3, 2]);
    release(backend, flipped);
    const out = runWasmKernel(
      'Conv2D',
      backend,
      { x: convInput, filter: swapped },
      { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] },
    );
    release(backend, convInput, swapped);
    if (out.shape[3] !== a.inputShape[3])
      throw new Error(`Conv2DBackpropInput produced ${out.shape.join('x')}`);
    return out;
  }) as KernelFunc,
};
