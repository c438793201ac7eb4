/**
 * The benchmark shapes of issue 3, as zoo specs (data-parallel workers rebuild a model from its
 * spec): mlp 784-1024-1024-10 at batch 256; cnn conv32-pool-conv64-pool-fc128-fc10 on 28×28×1 at
 * batch 128; resnet20 on 32×32×3 at batch 128; transformer vocab 10k, seq 128, d 128, 2 blocks at
 * batch 32. Targets are integer class ids (sparse categorical cross-entropy).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildModel } from '../src/models/index.js';
import type { ModelSpec } from '../src/parallel/protocol.js';

export const BENCH_MODELS = ['mlp', 'cnn', 'resnet20', 'transformer'] as const;
export type BenchModel = (typeof BENCH_MODELS)[number];

export interface Workload {
  spec: ModelSpec;
  batch: number;
  classes: number;
  inputs: () => tf.Tensor;
}

export const WORKLOADS: Record<BenchModel, Workload> = {
  mlp: {
    spec: {
      name: 'mlp',
      options: { inputShape: [784], hidden: [1024, 1024], classes: 10, seed: 1 },
    },
    batch: 256,
    classes: 10,
    inputs: () => tf.randomUniform([256, 784], 0, 1, 'float32', 2),
  },
  cnn: {
    spec: { name: 'cnn', options: { inputShape: [28, 28, 1], classes: 10, seed: 1 } },
    batch: 128,
    classes: 10,
    inputs: () => tf.randomUniform([128, 28, 28, 1], 0, 1, 'float32', 2),
  },
  resnet20: {
    spec: { name: 'resnet20', options: { inputShape: [32, 32, 3], classes: 10, seed: 1 } },
    batch: 128,
    classes: 10,
    inputs: () => tf.randomUniform([128, 32, 32, 3], 0, 1, 'float32', 2),
  },
  transformer: {
    spec: {
      name: 'transformer',
      options: { vocabSize: 10000, seqLength: 128, dModel: 128, blocks: 2, classes: 10, seed: 1 },
    },
    batch: 32,
    classes: 10,
    inputs: () => tf.floor(tf.randomUniform([32, 128], 0, 10000, 'float32', 2)),
  },
};

export function buildWorkloadModel(work: Workload): tfl.LayersModel {
  return buildModel(work.spec.name, work.spec.options as never);
}

/** Class ids 0, 1, …, classes − 1, 0, 1, … for a batch (float32, as tfjs-layers expects). */
export function workloadTargets(work: Workload): tf.Tensor1D {
  return tf.tensor1d(
    Array.from({ length: work.batch }, (_, i) => i % work.classes),
    'float32',
  );
}
