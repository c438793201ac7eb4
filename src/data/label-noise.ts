import { checkFraction, checkInteger } from '../util/validate.js';
import { checkLabelRange } from './idx.js';
import { createRandom, sampleWithoutReplacement } from '../util/random.js';

export interface SymmetricLabelNoiseOptions {
  /** Share of labels flipped, in [0, 1]; exactly round(fraction × n) labels change. */
  fraction: number;
  classes: number;
  seed: number;
}

export interface NoisyLabels<T extends Uint8Array | Int32Array> {
  /** The labels with noise (a new array of the input's type). */
  labels: T;
  /** A copy of the input labels, for evaluating against the truth. */
  cleanLabels: T;
  /** Indices whose label changed, ascending. */
  flippedIndices: Int32Array;
}

/**
 * Symmetric label noise, convention "flip to a different class": exactly round(fraction × n)
 * samples, chosen uniformly without replacement, get a label drawn uniformly from the other
 * `classes − 1` classes. Every chosen label really changes, so `fraction` is the true noise rate.
 * (Some papers instead redraw from all `classes`, whose effective rate is fraction × (K−1)/K.)
 */
export function addSymmetricLabelNoise<T extends Uint8Array | Int32Array>(
  labels: T,
  options: SymmetricLabelNoiseOptions,
): NoisyLabels<T> {
  const owner = 'addSymmetricLabelNoise';
  const fraction = checkFraction(owner, 'fraction', options.fraction, {
    allowZero: true,
    allowOne: true,
  });
  const classes = checkInteger(owner, 'classes', options.classes, 2);
  checkLabelRange(labels, classes, owner);
  const random = createRandom(options.seed);
  const flipCount = Math.round(fraction * labels.length);
  const flippedIndices = sampleWithoutReplacement(labels.length, flipCount, random);
  const noisy = labels.slice() as T;
  for (const index of flippedIndices) {
    const clean = labels[index] as number;
    const draw = random.int(classes - 1);
    noisy[index] = draw >= clean ? draw + 1 : draw;
  }
  return { labels: noisy, cleanLabels: labels.slice() as T, flippedIndices: flippedIndices.sort() };
}
