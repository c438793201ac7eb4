import * as tf from '@tensorflow/tfjs-core';
import type {
  KernelBackend,
  NamedAttrMap,
  NamedTensorInfoMap,
  TensorInfo,
} from '@tensorflow/tfjs-core';

/** Runs the currently registered wasm kernel `name`. */
export function runWasmKernel(
  name: string,
  backend: object,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) {
    throw new Error(
      `wasm kernel '${name}' is not registered; import '@tensorflow/tfjs-backend-wasm' first`,
    );
  }
  const out = kernel.kernelFunc({ inputs, backend: backend as KernelBackend, attrs });
  if (Array.isArray(out))
    throw new Error(`wasm kernel '${name}' returned several outputs; expected one`);
  return out;
}

/** Releases intermediate results (never kernel inputs). */
export function release(backend: object, ...infos: TensorInfo[]): void {
  for (const info of infos) (backend as KernelBackend).disposeData(info.dataId);
}

export function transpose(backend: object, x: TensorInfo, perm: number[]): TensorInfo {
  return runWasmKernel('Transpose', backend, { x }, { perm });
}

export function reshape(backend: object, x: TensorInfo, shape: number[]): TensorInfo {
  return runWasmKernel('Reshape', backend, { x }, { shape });
}

/** Zero padding; without any padding, the input itself (one more reference, no copy). */
export function pad(backend: object, x: TensorInfo, paddings: Array<[number, number]>): TensorInfo {
  if (paddings.every(([before, after]) => before === 0 && after === 0))
    return reshape(backend, x, x.shape);
  return runWasmKernel('PadV2', backend, { x }, { paddings, constantValue: 0 });
}

export function slice(backend: object, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  return runWasmKernel('Slice', backend, { x }, { begin, size });
}

export function requireNhwc(kernel: string, dataFormat: unknown): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(
      `${kernel} on wasm supports dataFormat 'NHWC' only, got '${String(dataFormat)}'; ` +
        `use channelsLast layers (the default) or transpose the input to NHWC`,
    );
  }
}

export type Shape4D = [number, number, number, number];

/** The attributes every convolution-gradient kernel shares. */
export interface ConvGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat?: string;
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/**
 * The geometry of the forward convolution whose gradient `kernel` computes: NHWC and dilation 1
 * only (the gradients tfjs-core registers never pass anything else; cpu refuses the same).
 */
export function convGradientInfo(
  kernel: string,
  inputShape: Shape4D,
  filterShape: Shape4D,
  attrs: ConvGradientAttrs,
  depthwise = false,
): tf.backend_util.Conv2DInfo {
  requireNhwc(kernel, attrs.dataFormat);
  const dilations = attrs.dilations ?? 1;
  if (!tf.backend_util.tupleValuesAreOne(dilations)) {
    throw new Error(
      `${kernel} on wasm supports dilations 1 only (as tfjs-core's gradients and the cpu kernel ` +
        `do), got ${JSON.stringify(dilations)}; use dilations 1`,
    );
  }
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}
