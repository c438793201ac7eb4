import type * as tf from '@tensorflow/tfjs-core';
import { validateDataset } from './dataset.js';
import { checkInteger } from '../util/validate.js';
import { createRandom, deriveSeed, permutation } from '../util/random.js';
import { imagesToTensor, labelsToTensor } from './tensors.js';
import type { ImageDataset } from './types.js';
import { exampleTensors, validateExamples, type Examples } from './examples.js';

export interface BatchOptions {
  batchSize: number;
  /** Visit samples in a seeded random order (needs `seed`); in stored order otherwise. */
  shuffle?: boolean;
  seed?: number;
  /** Mixed into the seed so each epoch gets its own order (default 0). */
  epoch?: number;
  /** Skip the last batch when it is smaller than batchSize (default false). */
  dropRemainder?: boolean;
  /** One-hot float32 labels [b, classes] (default) or int32 [b]. */
  oneHot?: boolean;
}

export interface Batch {
  /** float32 [b, h, w, c] in [0, 1]. */
  xs: tf.Tensor4D;
  ys: tf.Tensor;
  /** The dataset indices of this batch's samples. */
  indices: Int32Array;
  dispose(): void;
}

/** The sample order of one epoch: a seeded permutation, or 0..n-1. */
export function epochOrder(count: number, options: Omit<BatchOptions, 'batchSize'>): Int32Array {
  if (!options.shuffle) return Int32Array.from({ length: count }, (_, index) => index);
  if (options.seed === undefined) {
    throw new Error('batches: shuffle is true but no seed was given; pass { seed } (an integer).');
  }
  return permutation(count, createRandom(deriveSeed(options.seed, options.epoch ?? 0)));
}

/**
 * One epoch of batches. Each batch's tensors are created only when the iterator reaches it and
 * belong to the caller: call `batch.dispose()` (or wrap the use in tf.tidy) before the next.
 */
export function* batches(dataset: ImageDataset, options: BatchOptions): Generator<Batch> {
  validateDataset(dataset, 'batches');
  const batchSize = checkInteger('batches', 'batchSize', options.batchSize, 1);
  const order = epochOrder(dataset.count, options);
  const end = options.dropRemainder ? dataset.count - (dataset.count % batchSize) : dataset.count;
  for (let start = 0; start < end; start += batchSize) {
    const indices = order.slice(start, Math.min(start + batchSize, end));
    const xs = imagesToTensor(dataset, indices);
    const labels = Int32Array.from(indices, (index) => dataset.labels[index] as number);
    const ys = labelsToTensor(labels, dataset.classes, { oneHot: options.oneHot ?? true });
    yield {
      xs,
      ys,
      indices,
      dispose: () => {
        xs.dispose();
        ys.dispose();
      },
    };
  }
}

/** How many batches `batches(dataset, options)` yields. */
export function batchCount(count: number, batchSize: number, dropRemainder = false): number {
  return dropRemainder ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/** A batch of any kind of examples (images, token sequences, next-token windows). */
export interface ExampleBatch {
  xs: tf.Tensor;
  ys: tf.Tensor;
  indices: Int32Array;
  dispose(): void;
}

/**
 * One epoch of batches of `examples`, as {@link batches} (the same order and, for images, the same
 * tensors); targets as {@link exampleTensors} makes them.
 */
export function* exampleBatches(
  examples: Examples,
  options: BatchOptions,
): Generator<ExampleBatch> {
  validateExamples(examples, 'batches');
  const batchSize = checkInteger('batches', 'batchSize', options.batchSize, 1);
  const order = epochOrder(examples.count, options);
  const end = options.dropRemainder
    ? examples.count - (examples.count % batchSize)
    : examples.count;
  for (let start = 0; start < end; start += batchSize) {
    const indices = order.slice(start, Math.min(start + batchSize, end));
    const { xs, ys } = exampleTensors(examples, indices, { oneHot: options.oneHot ?? true });
    yield {
      xs,
      ys,
      indices,
      dispose: () => {
        xs.dispose();
        ys.dispose();
      },
    };
  }
}
