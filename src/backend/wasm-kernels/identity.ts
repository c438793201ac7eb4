import type { KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Identity that shares the input's data (one more reference), as tfjs-backend-cpu does; the
 * stock wasm Identity copies it. Safe because kernels never write into their inputs and
 * Variable.assign replaces a variable's data instead of writing into it.
 */
export function makeIdentityKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const x = inputs['x'] as TensorInfo;
    if (x.dtype === 'string') return original.kernelFunc({ inputs, backend, attrs });
    (backend as KernelBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return { kernelName: 'Identity', backendName: 'wasm', kernelFunc };
}
