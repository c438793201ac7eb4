/**
 * The wasm backend's kernels for the fused ops of src/math/fused-ops.ts: one SIMD pass each over
 * the tensors on the wasm heap (fused.wat), where the composed ops take two to four.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { FUSED_KERNEL_NAMES, type SgdStepAttrs } from '../../math/fused-ops.js';
import { allocate, floatView } from '../heap.js';
import { fusedKernelsFor, type FusedExports } from './instance.js';

function exportsOf(backend: object): FusedExports {
  const fused = fusedKernelsFor(backend);
  if (fused === null) {
    throw new Error(
      'the fused SIMD kernels cannot run on this wasm backend (shared memory or no WebAssembly SIMD); ' +
        'they should not have been registered — call registerWasmTrainingKernels() again after setting the backend.',
    );
  }
  return fused;
}

/** Byte offset and length of a float32 tensor on the heap (take it after the last allocation). */
function location(backend: object, info: TensorInfo): { at: number; n: number } {
  const view = floatView(backend, info);
  return { at: view.byteOffset, n: view.length };
}

const dot: KernelFunc = ({ inputs, backend }) => {
  const out = allocate(backend, [], 'float32');
  const a = location(backend, inputs['a'] as TensorInfo);
  const b = location(backend, inputs['b'] as TensorInfo);
  floatView(backend, out)[0] = exportsOf(backend).dot(a.at, b.at, a.n);
  return out;
};

const gram: KernelFunc = ({ inputs, backend }) => {
  const out = allocate(backend, [3], 'float32');
  const a = location(backend, inputs['a'] as TensorInfo);
  const b = location(backend, inputs['b'] as TensorInfo);
  floatView(backend, out).set(exportsOf(backend).gram(a.at, b.at, a.n));
  return out;
};

const finiteProbe: KernelFunc = ({ inputs, backend }) => {
  const out = allocate(backend, [], 'float32');
  const x = location(backend, inputs['x'] as TensorInfo);
  floatView(backend, out)[0] = exportsOf(backend).anyNonFinite(x.at, x.n) === 0 ? 0 : NaN;
  return out;
};

const axpby: KernelFunc = ({ inputs, backend }) => {
  const xInfo = inputs['x'] as TensorInfo;
  const out = allocate(backend, xInfo.shape, 'float32');
  const a = floatView(backend, inputs['a'] as TensorInfo)[0] as number;
  const b = floatView(backend, inputs['b'] as TensorInfo)[0] as number;
  const x = location(backend, xInfo);
  const y = location(backend, inputs['y'] as TensorInfo);
  const target = location(backend, out);
  exportsOf(backend).axpby(a, x.at, b, y.at, target.at, x.n);
  return out;
};

const DECAY_FLAG = 1;
const MOMENTUM_FLAG = 2;

const sgdStep: KernelFunc = ({ inputs, backend, attrs }) => {
  const valueInfo = inputs['value'] as TensorInfo;
  const accumulationInfo = (inputs['accumulation'] as TensorInfo | undefined) ?? null;
  const { a, b, weightDecay, momentum, c } = attrs as unknown as SgdStepAttrs;
  const value = allocate(backend, valueInfo.shape, 'float32');
  const accumulation =
    accumulationInfo === null ? null : allocate(backend, valueInfo.shape, 'float32');
  const probe = allocate(backend, [], 'float32');
  const w = location(backend, valueInfo);
  const v = accumulationInfo === null ? w : location(backend, accumulationInfo);
  const flags = (weightDecay !== 0 ? DECAY_FLAG : 0) | (accumulation !== null ? MOMENTUM_FLAG : 0);
  const found = exportsOf(backend).sgdStep(
    a,
    location(backend, inputs['first'] as TensorInfo).at,
    b,
    location(backend, inputs['second'] as TensorInfo).at,
    w.at,
    weightDecay,
    v.at,
    momentum,
    c,
    location(backend, value).at,
    accumulation === null ? 0 : location(backend, accumulation).at,
    flags,
    w.n,
  );
  floatView(backend, probe)[0] = found === 0 ? 0 : NaN;
  return accumulation === null ? [value, probe] : [value, accumulation, probe];
};

/** The kernel configs, or none when the fused module cannot run on `backend`. */
export function fusedWasmKernels(backend: object): KernelConfig[] {
  if (fusedKernelsFor(backend) === null) return [];
  return [
    { kernelName: FUSED_KERNEL_NAMES.dot, backendName: 'wasm', kernelFunc: dot },
    { kernelName: FUSED_KERNEL_NAMES.gram, backendName: 'wasm', kernelFunc: gram },
    { kernelName: FUSED_KERNEL_NAMES.finiteProbe, backendName: 'wasm', kernelFunc: finiteProbe },
    { kernelName: FUSED_KERNEL_NAMES.axpby, backendName: 'wasm', kernelFunc: axpby },
    { kernelName: FUSED_KERNEL_NAMES.sgdStep, backendName: 'wasm', kernelFunc: sgdStep },
  ];
}
