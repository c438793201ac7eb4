import * as tf from '@tensorflow/tfjs-core';
import { checkFraction, checkInteger } from '../util/validate.js';
import { createRandom } from '../util/random.js';
import type { Random } from '../util/random.js';

export interface AugmentOptions {
  /** Random crop: zero-pad each side by this many pixels, then crop back at a random offset (0 = off). */
  padding?: number;
  /** Random horizontal flip (default false). */
  flip?: boolean;
  /** Chance that a sample is flipped when `flip` is on (default 0.5). */
  flipProbability?: number;
  /**
   * Cutout (DeVries & Taylor 2017): zero a `cutout`×`cutout` square centred on a uniformly random
   * pixel, clipped at the border (0 = off).
   */
  cutout?: number;
}

/** The random draws for one batch; per sample, in order. */
export interface AugmentationPlan {
  /** Crop offsets into the padded image, each in 0..2·padding. */
  offsetY: Int32Array;
  offsetX: Int32Array;
  /** 1 where the sample is mirrored left–right. */
  flip: Uint8Array;
  /** Cutout square centres (unused when cutout is 0). */
  cutoutY: Int32Array;
  cutoutX: Int32Array;
}

interface CheckedOptions {
  padding: number;
  flip: boolean;
  flipProbability: number;
  cutout: number;
}

function checkOptions(options: AugmentOptions): CheckedOptions {
  const owner = 'augmentImages';
  return {
    padding: checkInteger(owner, 'padding', options.padding ?? 0, 0),
    flip: options.flip ?? false,
    flipProbability: checkFraction(owner, 'flipProbability', options.flipProbability ?? 0.5, {
      allowZero: true,
      allowOne: true,
    }),
    cutout: checkInteger(owner, 'cutout', options.cutout ?? 0, 0),
  };
}

function checkImages(images: tf.Tensor): [number, number, number, number] {
  if (images.rank !== 4) {
    throw new Error(
      `augmentImages: images have shape [${images.shape.join(', ')}]; expected a rank-4 NHWC ` +
        'batch [n, height, width, channels].',
    );
  }
  return images.shape as [number, number, number, number];
}

/** Draws the random choices for `count` images of size height×width. */
export function drawAugmentationPlan(
  count: number,
  height: number,
  width: number,
  options: AugmentOptions,
  random: Random,
): AugmentationPlan {
  const { padding, flip, flipProbability, cutout } = checkOptions(options);
  const plan: AugmentationPlan = {
    offsetY: new Int32Array(count).fill(padding),
    offsetX: new Int32Array(count).fill(padding),
    flip: new Uint8Array(count),
    cutoutY: new Int32Array(count),
    cutoutX: new Int32Array(count),
  };
  for (let sample = 0; sample < count; sample++) {
    if (padding > 0) {
      plan.offsetY[sample] = random.int(2 * padding + 1);
      plan.offsetX[sample] = random.int(2 * padding + 1);
    }
    if (flip) plan.flip[sample] = random.next() < flipProbability ? 1 : 0;
    if (cutout > 0) {
      plan.cutoutY[sample] = random.int(height);
      plan.cutoutX[sample] = random.int(width);
    }
  }
  return plan;
}

/**
 * Applies `plan` to an NHWC batch: crop and flip as one gather from the zero-padded batch, cutout
 * as a 0/1 mask. Returns a new tensor; the input is left alone, intermediates are disposed.
 */
export function applyAugmentationPlan(
  images: tf.Tensor4D,
  plan: AugmentationPlan,
  options: AugmentOptions,
): tf.Tensor4D {
  const [count, height, width, channels] = checkImages(images);
  const { padding, cutout } = checkOptions(options);
  const moves = padding > 0 || plan.flip.some((flipped) => flipped === 1);
  return tf.tidy(() => {
    let result: tf.Tensor4D = images;
    if (moves) {
      const paddedHeight = height + 2 * padding;
      const paddedWidth = width + 2 * padding;
      const padded = tf.pad(images, [
        [0, 0],
        [padding, padding],
        [padding, padding],
        [0, 0],
      ]);
      const pixels = tf.reshape(padded, [count * paddedHeight * paddedWidth, channels]);
      const source = new Int32Array(count * height * width);
      for (let sample = 0; sample < count; sample++) {
        const dy = plan.offsetY[sample] as number;
        const dx = plan.offsetX[sample] as number;
        const mirrored = plan.flip[sample] === 1;
        for (let y = 0; y < height; y++) {
          const rowStart = (sample * paddedHeight + y + dy) * paddedWidth + dx;
          const target = (sample * height + y) * width;
          for (let x = 0; x < width; x++) {
            source[target + x] = rowStart + (mirrored ? width - 1 - x : x);
          }
        }
      }
      const gathered = tf.gather(pixels, tf.tensor1d(source, 'int32'), 0);
      result = tf.reshape(gathered, [count, height, width, channels]);
    }
    if (cutout > 0) {
      const mask = new Float32Array(count * height * width).fill(1);
      const before = Math.floor(cutout / 2);
      for (let sample = 0; sample < count; sample++) {
        const top = Math.max(0, (plan.cutoutY[sample] as number) - before);
        const bottom = Math.min(height, (plan.cutoutY[sample] as number) - before + cutout);
        const left = Math.max(0, (plan.cutoutX[sample] as number) - before);
        const right = Math.min(width, (plan.cutoutX[sample] as number) - before + cutout);
        for (let y = top; y < bottom; y++) {
          mask.fill(0, (sample * height + y) * width + left, (sample * height + y) * width + right);
        }
      }
      result = tf.mul(result, tf.tensor4d(mask, [count, height, width, 1], result.dtype));
    }
    return result === images ? tf.clone(images) : result;
  });
}

/** Seeded augmentation of an NHWC batch (see AugmentOptions); the input is not disposed. */
export function augmentImages(
  images: tf.Tensor4D,
  options: AugmentOptions & { seed: number },
): tf.Tensor4D {
  const [count, height, width] = checkImages(images);
  const plan = drawAugmentationPlan(count, height, width, options, createRandom(options.seed));
  return applyAugmentationPlan(images, plan, options);
}

/** Random crop after zero padding (e.g. padding 4 for 32×32 CIFAR images). */
export function randomCrop(
  images: tf.Tensor4D,
  options: { padding: number; seed: number },
): tf.Tensor4D {
  return augmentImages(images, { padding: options.padding, seed: options.seed });
}

/** Mirrors each image left–right with the given probability (default 0.5). */
export function randomHorizontalFlip(
  images: tf.Tensor4D,
  options: { probability?: number; seed: number },
): tf.Tensor4D {
  return augmentImages(images, {
    flip: true,
    flipProbability: options.probability ?? 0.5,
    seed: options.seed,
  });
}

/** Cutout with a `size`×`size` square per image. */
export function cutout(images: tf.Tensor4D, options: { size: number; seed: number }): tf.Tensor4D {
  return augmentImages(images, { cutout: options.size, seed: options.seed });
}

/** Mirrors every image left–right. */
export function flipHorizontal(images: tf.Tensor4D): tf.Tensor4D {
  checkImages(images);
  return tf.reverse(images, 2);
}

/**
 * A stateful augmenter: one seeded stream shared by successive calls, so a training run that
 * calls it once per batch is reproducible from `seed` alone.
 */
export function createAugmenter(
  options: AugmentOptions & { seed: number },
): (images: tf.Tensor4D) => tf.Tensor4D {
  checkOptions(options);
  const random = createRandom(options.seed);
  return (images) => {
    const [count, height, width] = checkImages(images);
    return applyAugmentationPlan(
      images,
      drawAugmentationPlan(count, height, width, options, random),
      options,
    );
  };
}
