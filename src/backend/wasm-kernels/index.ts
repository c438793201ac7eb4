import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { makeBatchMatMulKernel } from './batch-mat-mul.js';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import { makeMaxPoolGradKernel } from './max-pool-grad.js';
import { makeTileKernel } from './tile.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';

const installed = new Set<KernelConfig>();

function swapKernel(config: KernelConfig): () => void {
  const previous = tf.getKernel(config.kernelName, 'wasm');
  if (previous !== undefined) tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel(config);
  installed.add(config);
  return () => {
    if (tf.getKernel(config.kernelName, 'wasm') === config) {
      tf.unregisterKernel(config.kernelName, 'wasm');
      if (previous !== undefined) tf.registerKernel(previous);
    }
    installed.delete(config);
  };
}

function isOurs(name: string): boolean {
  const current = tf.getKernel(name, 'wasm');
  return current !== undefined && installed.has(current);
}

/**
 * Registers wasm kernels that make training fast (and possible) in Node: adds the missing
 * Conv2DBackpropFilter and UnsortedSegmentSum, replaces the slow transposed BatchMatMul and
 * Conv2DBackpropInput and Tile. Returns a function restoring the previous kernels. Calling it again
 * while installed changes nothing (its undo is then a no-op).
 */
export function registerWasmTrainingKernels(): () => void {
  const undos: Array<() => void> = [];
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (batchMatMul !== undefined && !isOurs('BatchMatMul'))
    undos.push(swapKernel(makeBatchMatMulKernel(batchMatMul)));
  for (const config of [
    conv2dBackpropFilterKernel,
    conv2dBackpropInputKernel,
    unsortedSegmentSumKernel,
  ]) {
    if (!isOurs(config.kernelName)) undos.push(swapKernel(config));
  }
  const tile = tf.getKernel('Tile', 'wasm');
  if (tile !== undefined && !isOurs('Tile')) undos.push(swapKernel(makeTileKernel(tile)));
  const maxPoolGrad = tf.getKernel('MaxPoolGrad', 'wasm');
  if (maxPoolGrad !== undefined && !isOurs('MaxPoolGrad'))
    undos.push(swapKernel(makeMaxPoolGradKernel(maxPoolGrad)));
  return () => {
    for (const undo of undos.reverse()) undo();
    undos.length = 0;
  };
}
