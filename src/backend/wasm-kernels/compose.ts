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
