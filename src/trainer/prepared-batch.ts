import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createAugmenter } from '../data/augment.js';
import type { ExampleBatch } from '../data/batches.js';
import { outputClasses } from '../data/examples.js';
import { deriveSeed } from '../util/random.js';
import { toModelInput } from './model-input.js';
import type { Settings, TrainerOptions } from './options.js';

/** A batch as the step sees it: augmented (seeded by its place) and with smoothed targets. */
export interface PreparedBatch {
  inputs: tf.Tensor;
  targets: tf.Tensor;
  size: number;
  dispose(): void;
}

export function prepareBatch(
  options: TrainerOptions,
  { seed, smoothing }: Settings,
  model: tfl.LayersModel,
  batch: ExampleBatch,
  epoch: number,
  batchIndex: number,
): PreparedBatch {
  const augmented = options.augment
    ? createAugmenter({
        ...options.augment,
        seed: deriveSeed(seed, epoch * 1_000_003 + batchIndex),
      })(batch.xs as tf.Tensor4D)
    : batch.xs;
  const inputs = toModelInput(model, augmented);
  const classes = outputClasses(options.data.train);
  const targets =
    smoothing > 0
      ? tf.tidy(() => tf.add(tf.mul(batch.ys, 1 - smoothing), smoothing / classes))
      : batch.ys;
  return {
    inputs,
    targets,
    size: batch.indices.length,
    dispose: () => {
      if (inputs !== augmented) inputs.dispose();
      if (augmented !== batch.xs) augmented.dispose();
      if (targets !== batch.ys) targets.dispose();
      batch.dispose();
    },
  };
}
