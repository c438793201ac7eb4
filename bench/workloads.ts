/**
 * The benchmark shapes of issue 3, as zoo specs (data-parallel workers rebuild a model from its
 * spec): mlp 784-1024-1024-10 at batch 256; cnn conv32-pool-conv64-pool-fc128-fc10 on 28×28×1 at
 * batch 128; resnet20 on 32×32×3 at batch 128; transformer vocab 10k, seq 128, d 128, 2 blocks at
 * batch 32. Targets are integer class ids (sparse categorical cross-entropy).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildLanguageModel, buildModel } from '../src/models/index.js';
import { objectiveFor } from '../src/trainer/objective.js';

const nextTokenLoss = (y: tf.Tensor, logits: tf.Tensor) =>
  objectiveFor('next-token').loss(y, logits);
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

/**
 * The text workloads of issue 14: `text-transformer` is the transformer above as a padded-text
 * classifier (padding masked, 2 classes, rows of 32–128 tokens padded to 128); `lm` is the
 * decoder-only language model, vocabulary 8 000, context 128, d 128, 4 heads, 2 blocks, feed-forward
 * 512, tied output, next-token targets for every position. Both at batch 32.
 */
export const TEXT_BENCH_MODELS = ['text-transformer', 'lm'] as const;
export type TextBenchModel = (typeof TEXT_BENCH_MODELS)[number];

export interface TextWorkload {
  batch: number;
  shape: string;
  build: () => tfl.LayersModel;
  inputs: () => tf.Tensor;
  targets: () => tf.Tensor;
  /**
   * The training loss when it is not the compiled one (the lm: the fused softmax cross-entropy
   * of its logits, the trainer's next-token objective); the step is then `optimizer.minimize`.
   */
  loss?: (model: tfl.LayersModel, x: tf.Tensor, y: tf.Tensor) => tf.Scalar;
}

function paddedRows(batch: number, length: number, vocab: number): tf.Tensor2D {
  const ids = new Int32Array(batch * length);
  for (let r = 0; r < batch; r++) {
    const used = 32 + ((r * 37) % (length - 31));
    for (let c = 0; c < used; c++)
      ids[r * length + c] = 3 + ((r * 7919 + c * 104729) % (vocab - 3));
  }
  return tf.tensor2d(ids, [batch, length], 'int32');
}

export const TEXT_WORKLOADS: Record<TextBenchModel, TextWorkload> = {
  'text-transformer': {
    batch: 32,
    shape:
      'vocab 10k, seq 128 (32–128 tokens, padding masked), d 128, 4 heads, 2 blocks, ff 256, 2 classes',
    build: () =>
      buildModel('transformer', {
        vocabSize: 10000,
        seqLength: 128,
        dModel: 128,
        blocks: 2,
        classes: 2,
        maskPadding: true,
        seed: 1,
      }),
    inputs: () => paddedRows(32, 128, 10000),
    targets: () =>
      tf.tensor1d(
        Array.from({ length: 32 }, (_, i) => i % 2),
        'float32',
      ),
  },
  lm: {
    batch: 32,
    shape: 'vocab 8000, context 128, d 128, 4 heads, 2 blocks, ff 512, tied output',
    build: () =>
      buildLanguageModel('lm', {
        vocabSize: 8000,
        seqLength: 128,
        dModel: 128,
        blocks: 2,
        seed: 1,
      }),
    inputs: () => tf.cast(tf.floor(tf.randomUniform([32, 128], 3, 8000, 'float32', 2)), 'int32'),
    targets: () => tf.floor(tf.randomUniform([32, 128, 1], 3, 8000, 'float32', 3)),
    loss: (model, x, y) => nextTokenLoss(y, model.apply(x, { training: true }) as tf.Tensor),
  },
};
