/**
 * cpu-backend kernels for training text models. tfjs-backend-cpu computes UnsortedSegmentSum — the
 * gradient of gather, so of every embedding — as one masked reduction per segment, O(rows ×
 * segments): 37 s per step for a 2 000-word embedding at batch 32 × 64 tokens. Here it is one pass
 * adding each row into its segment, O(rows × width), as the wasm kernel does on the heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo, TypedArray } from '@tensorflow/tfjs-core';

/** The part of tfjs-backend-cpu's MathBackendCPU these kernels use. */
interface CpuBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: TypedArray): TensorInfo;
}

function values(backend: CpuBackend, info: TensorInfo): TypedArray {
  const stored = backend.data.get(info.dataId).values;
  if (!ArrayBuffer.isView(stored)) throw new Error('expected a numeric tensor on the cpu backend');
  return stored as TypedArray;
}

function makeSegmentSum(original: KernelConfig): KernelConfig {
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args;
    const x = inputs['x'] as TensorInfo;
    const ids = inputs['segmentIds'] as TensorInfo;
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || ids.dtype !== 'int32') {
      return original.kernelFunc(args);
    }
    const cpu = backend as unknown as CpuBackend;
    const numSegments = Number(attrs?.['numSegments']);
    const trailing = x.shape.slice(ids.shape.length);
    const width = trailing.reduce((p, d) => p * d, 1);
    const xs = values(cpu, x);
    const segments = values(cpu, ids);
    const acc = new Float64Array(numSegments * width);
    for (let row = 0; row < segments.length; row++) {
      const segment = segments[row] as number;
      if (!(segment >= 0 && segment < numSegments)) continue;
      const to = segment * width;
      const from = row * width;
      for (let i = 0; i < width; i++)
        acc[to + i] = (acc[to + i] as number) + (xs[from + i] as number);
    }
    const out = x.dtype === 'int32' ? Int32Array.from(acc) : Float32Array.from(acc);
    return cpu.makeTensorInfo([numSegments, ...trailing], x.dtype, out);
  };
  return { kernelName: 'UnsortedSegmentSum', backendName: 'cpu', kernelFunc };
}

const installed = new Set<KernelConfig>();

/**
 * Registers the cpu training kernels (today: a one-pass UnsortedSegmentSum, so embeddings train at
 * the speed of the rest of the model). Returns a function restoring the previous kernel; calling
 * it again while installed changes nothing.
 */
export function registerCpuTrainingKernels(): () => void {
  const previous = tf.getKernel('UnsortedSegmentSum', 'cpu');
  if (previous === undefined || installed.has(previous)) return () => undefined;
  const config = makeSegmentSum(previous);
  tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
  tf.registerKernel(config);
  installed.add(config);
  return () => {
    if (tf.getKernel('UnsortedSegmentSum', 'cpu') === config) {
      tf.unregisterKernel('UnsortedSegmentSum', 'cpu');
      tf.registerKernel(previous);
    }
    installed.delete(config);
  };
}
