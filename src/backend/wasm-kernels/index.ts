import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { makeBatchMatMulKernel } from './batch-mat-mul.js';
import { conv2dBackpropFilterKernel } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputKernel } from './conv2d-backprop-input.js';
import {
  depthwiseConv2dBackpropFilterKernel,
  depthwiseConv2dBackpropInputKernel,
} from './depthwise-conv2d-backprop.js';
import { makeMaxPoolGradKernel } from './max-pool-grad.js';
import { makeSliceKernel } from './slice.js';
import { makeReductionKernel } from './sum.js';
import { makeIdentityKernel } from './identity.js';
import { makeOneHotKernel } from './one-hot.js';
import { makeGatherKernel } from './gather.js';
import { makeFusedMatMulKernel } from './fused-mat-mul.js';
import { makeTransposeKernel } from './transpose.js';
import { makeTileKernel } from './tile.js';
import { makeTileGradConfig } from './tile-grad.js';
import { makeReductionGradConfig } from './reduction-grad.js';
import { unsortedSegmentSumKernel } from './unsorted-segment-sum.js';
import { fusedWasmKernels } from '../fused/kernels.js';

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

const installedGradients = new Set<GradConfig>();

function swapGradient(config: GradConfig): () => void {
  const previous = tf.getGradient(config.kernelName);
  tf.registerGradient(config);
  installedGradients.add(config);
  return () => {
    if (tf.getGradient(config.kernelName) === config) {
      tf.unregisterGradient(config.kernelName);
      if (previous !== undefined) tf.registerGradient(previous);
    }
    installedGradients.delete(config);
  };
}

function isOurs(name: string): boolean {
  const current = tf.getKernel(name, 'wasm');
  return current !== undefined && installed.has(current);
}

/**
 * Registers wasm kernels that make training fast (and possible) in Node: adds the missing
 * Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropFilter/Input and UnsortedSegmentSum; replaces the slow transposed or batched
 * BatchMatMul (and _FusedMatMul, with every float32 product on the SIMD matmul),
 * Conv2DBackpropInput, Tile, MaxPoolGrad, Slice, GatherV2, matrix Transpose and non-innermost Sum;
 * fixes OneHot
 * for float outputs (the stock kernel writes int32 bits whatever the dtype); and, on the
 * wasm backend only, computes the Tile gradient as one reshape + sum instead of a slice per
 * repetition, and the Sum and Mean gradients as one broadcast of dy instead of a product with a
 * tensor of ones made in JavaScript. When the wasm backend is initialized (after `tf.setBackend('wasm')` and
 * `tf.ready()`), it also adds the fused SIMD kernels of the sharpness-aware math
 * (src/math/fused-ops.ts). Returns a function restoring the previous kernels and gradient. Calling it again
 * while installed changes nothing (its undo is then a no-op). Import tfjs-layers first: it
 * registers tfjs-core's gradients and would replace the Tile gradient installed before it.
 */
export function registerWasmTrainingKernels(): () => void {
  const undos: Array<() => void> = [];
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm');
  if (batchMatMul !== undefined && !isOurs('BatchMatMul'))
    undos.push(swapKernel(makeBatchMatMulKernel(batchMatMul)));
  for (const config of [
    conv2dBackpropFilterKernel,
    conv2dBackpropInputKernel,
    depthwiseConv2dBackpropFilterKernel,
    depthwiseConv2dBackpropInputKernel,
    unsortedSegmentSumKernel,
  ]) {
    if (!isOurs(config.kernelName)) undos.push(swapKernel(config));
  }
  const tile = tf.getKernel('Tile', 'wasm');
  if (tile !== undefined && !isOurs('Tile')) undos.push(swapKernel(makeTileKernel(tile)));
  const maxPoolGrad = tf.getKernel('MaxPoolGrad', 'wasm');
  if (maxPoolGrad !== undefined && !isOurs('MaxPoolGrad'))
    undos.push(swapKernel(makeMaxPoolGradKernel(maxPoolGrad)));
  for (const [name, make] of [
    ['Slice', makeSliceKernel],
    ['Sum', (original: KernelConfig) => makeReductionKernel(original, 'Sum')],
    ['Mean', (original: KernelConfig) => makeReductionKernel(original, 'Mean')],
    ['Identity', makeIdentityKernel],
    ['OneHot', makeOneHotKernel],
    ['GatherV2', makeGatherKernel],
    ['_FusedMatMul', makeFusedMatMulKernel],
    ['Transpose', makeTransposeKernel],
  ] as const) {
    const original = tf.getKernel(name, 'wasm');
    if (original !== undefined && !isOurs(name)) undos.push(swapKernel(make(original)));
  }
  const wasmBackend = tf.findBackend('wasm');
  if (wasmBackend !== null) {
    for (const config of fusedWasmKernels(wasmBackend)) {
      if (!isOurs(config.kernelName)) undos.push(swapKernel(config));
    }
  }
  const tileGradient = tf.getGradient('Tile');
  if (tileGradient === undefined || !installedGradients.has(tileGradient))
    undos.push(swapGradient(makeTileGradConfig(tileGradient)));
  for (const name of ['Sum', 'Mean'] as const) {
    const gradient = tf.getGradient(name);
    if (gradient === undefined || !installedGradients.has(gradient))
      undos.push(swapGradient(makeReductionGradConfig(name, gradient)));
  }
  return () => {
    for (const undo of undos.reverse()) undo();
    undos.length = 0;
  };
}
