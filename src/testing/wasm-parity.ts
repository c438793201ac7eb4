/** Helpers for the wasm-kernel parity tests: the same computation on cpu and wasm, compared. */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from './backends.js';

/** max|a-b| / (max|b| + 1e-8) */
export function relativeError(
  actual: Float32Array | Int32Array,
  expected: Float32Array | Int32Array,
): number {
  if (actual.length !== expected.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs((actual[i] ?? NaN) - (expected[i] ?? NaN)));
    scale = Math.max(scale, Math.abs(expected[i] ?? NaN));
  }
  return Number.isNaN(diff) ? Infinity : diff / (scale + 1e-8);
}

/** Runs `compute` on cpu and on wasm and returns both results' values and shapes. */
export async function onBothBackends(
  compute: () => tf.Tensor,
): Promise<{ wasm: Float32Array; cpu: Float32Array; wasmShape: number[]; cpuShape: number[] }> {
  await useBackend('cpu');
  const c = compute();
  const cpu = (await c.data()) as Float32Array;
  const cpuShape = c.shape;
  c.dispose();
  await useBackend('wasm');
  const w = compute();
  const wasm = (await w.data()) as Float32Array;
  const wasmShape = w.shape;
  w.dispose();
  return { wasm, cpu, wasmShape, cpuShape };
}

export function seeded(shape: number[], seed: number): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed);
}

/** Asserts that `compute` gives the same shape on both backends and values within `tolerance`. */
export async function expectParity(
  label: string,
  compute: () => tf.Tensor,
  tolerance = 1e-5,
): Promise<void> {
  const r = await onBothBackends(compute);
  assert.deepEqual(r.wasmShape, r.cpuShape, `${label}: shape`);
  const err = relativeError(r.wasm, r.cpu);
  assert.ok(err <= tolerance, `${label}: relative error ${err}`);
}
