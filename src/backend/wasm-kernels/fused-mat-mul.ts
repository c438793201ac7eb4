import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { release, runWasmKernel } from './compose.js';
import { simdBatchMatMul } from './batch-mat-mul.js';
import { fusedKernelsFor } from '../fused/instance.js';

/** The activation kernels of the activations a fused matmul may end with. */
const ACTIVATIONS: Record<
  string,
  (
    x: TensorInfo,
    alpha: TensorInfo | undefined,
    attrs: NamedAttrMap,
  ) => [string, Record<string, TensorInfo>, NamedAttrMap]
> = {
  relu: (x) => ['Relu', { x }, {}],
  relu6: (x) => ['Relu6', { x }, {}],
  elu: (x) => ['Elu', { x }, {}],
  sigmoid: (x) => ['Sigmoid', { x }, {}],
  leakyrelu: (x, _alpha, attrs) => [
    'LeakyRelu',
    { x },
    { alpha: Number(attrs['leakyreluAlpha'] ?? 0.2) },
  ],
  prelu: (x, alpha) => ['Prelu', { x, alpha: alpha! }, {}],
};

/**
 * _FusedMatMul (the matmul + bias + activation of tfjs-layers' Dense) through the SIMD matmul of
 * fused.wat: out starts as the bias row (as XNNPACK's accumulators do), the product is added to
 * it, then the activation's own kernel runs. Where the fused module cannot run, or for a bias that
 * is not one value per column, the stock kernel.
 */
export function makeFusedMatMulKernel(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const a = inputs['a'] as TensorInfo;
    const b = inputs['b'] as TensorInfo;
    const bias = (inputs['bias'] as TensorInfo | undefined) ?? null;
    const preluWeights = inputs['preluActivationWeights'] as TensorInfo | undefined;
    const {
      transposeA,
      transposeB,
      activation = 'linear',
    } = (attrs ?? {}) as {
      transposeA?: boolean;
      transposeB?: boolean;
      activation?: string;
    };
    const n = b.shape[transposeB ? b.shape.length - 2 : b.shape.length - 1]!;
    const fused = fusedKernelsFor(backend);
    const plainBias = bias === null || (bias.shape.length === 1 && bias.shape[0] === n);
    const activate = ACTIVATIONS[activation];
    if (
      fused === null ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      !plainBias ||
      (activation !== 'linear' && activate === undefined)
    ) {
      return original.kernelFunc({ inputs, backend, attrs });
    }
    const product = simdBatchMatMul(
      fused,
      backend,
      a,
      b,
      Boolean(transposeA),
      Boolean(transposeB),
      bias,
    );
    if (activate === undefined) return product;
    const [name, kernelInputs, kernelAttrs] = activate(product, preluWeights, attrs ?? {});
    const out = runWasmKernel(name, backend, kernelInputs, kernelAttrs);
    release(backend, product);
    return out;
  };
  return { kernelName: '_FusedMatMul', backendName: 'wasm', kernelFunc };
}
