import { classCounts, subsetDataset, validateDataset } from './dataset.js';
import { checkFraction, checkInteger } from '../util/validate.js';
import { createRandom, permutation, sampleWithoutReplacement } from '../util/random.js';
import type { ImageDataset } from './types.js';

/** A copy of `dataset` with its samples in a seeded random order. */
export function shuffleDataset(dataset: ImageDataset, seed: number): ImageDataset {
  return subsetDataset(dataset, permutation(dataset.count, createRandom(seed)));
}

/**
 * Splits `total` into per-class quotas proportional to `counts` that sum exactly to `total`
 * (largest-remainder apportionment; ties go to the lower class index).
 */
function apportion(counts: number[], total: number): number[] {
  const size = counts.reduce((sum, count) => sum + count, 0);
  const exact = counts.map((count) => (count * total) / size);
  const quotas = exact.map(Math.floor);
  let remaining = total - quotas.reduce((sum, quota) => sum + quota, 0);
  const byRemainder = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  for (const { index } of byRemainder) {
    if (remaining === 0) break;
    quotas[index] = (quotas[index] as number) + 1;
    remaining--;
  }
  return quotas;
}

export interface TrainValidationSplitOptions {
  /** Share of samples held out, in (0, 1); the count is rounded to the nearest integer. */
  validationFraction: number;
  seed: number;
  /** Keep each class's share the same in both parts (default true). */
  stratified?: boolean;
}

export interface TrainValidationSplit {
  train: ImageDataset;
  validation: ImageDataset;
  /** Indices into the input dataset, ascending. */
  trainIndices: Int32Array;
  validationIndices: Int32Array;
}

/** A seeded, disjoint train/validation split; both parts keep the input's sample order. */
export function trainValidationSplit(
  dataset: ImageDataset,
  options: TrainValidationSplitOptions,
): TrainValidationSplit {
  const owner = 'trainValidationSplit';
  validateDataset(dataset, owner);
  const fraction = checkFraction(owner, 'validationFraction', options.validationFraction, {
    allowZero: false,
    allowOne: false,
  });
  const validationCount = Math.round(fraction * dataset.count);
  if (validationCount === 0 || validationCount === dataset.count) {
    throw new Error(
      `${owner}: validationFraction ${fraction} of ${dataset.count} samples leaves ` +
        `${validationCount} for validation and ${dataset.count - validationCount} for training; ` +
        'both parts need at least one sample: choose a fraction nearer 0.5 or more data.',
    );
  }
  const { keptIndices: trainIndices, heldOutIndices: validationIndices } = holdOutIndices(
    dataset.labels,
    dataset.classes,
    validationCount,
    options.seed,
    options.stratified ?? true,
  );
  return {
    train: subsetDataset(dataset, trainIndices),
    validation: subsetDataset(dataset, validationIndices),
    trainIndices,
    validationIndices,
  };
}

/**
 * A seeded choice of `heldOut` of the samples with these labels (each class keeping its share when
 * `stratified`), and the rest; both lists ascending.
 */
export function holdOutIndices(
  labels: ArrayLike<number>,
  classes: number,
  heldOut: number,
  seed: number,
  stratified = true,
): { keptIndices: Int32Array; heldOutIndices: Int32Array } {
  const count = labels.length;
  const validationCount = heldOut;
  const order = permutation(count, createRandom(seed));
  const inValidation = new Uint8Array(count);
  if (stratified) {
    const quotas = apportion(classCounts(labels, classes), validationCount);
    for (const index of order) {
      const label = labels[index] as number;
      if ((quotas[label] as number) > 0) {
        quotas[label] = (quotas[label] as number) - 1;
        inValidation[index] = 1;
      }
    }
  } else {
    for (const index of order.subarray(0, validationCount)) inValidation[index] = 1;
  }
  const keptIndices = new Int32Array(count - validationCount);
  const heldOutIndices = new Int32Array(validationCount);
  let trainCursor = 0;
  let validationCursor = 0;
  for (let index = 0; index < count; index++) {
    if (inValidation[index]) heldOutIndices[validationCursor++] = index;
    else keptIndices[trainCursor++] = index;
  }
  return { keptIndices, heldOutIndices };
}

/**
 * `perClass` seeded random sample indices of every class, ascending. Throws when a class has fewer
 * samples than asked for.
 */
export function classBalancedIndices(
  labels: ArrayLike<number>,
  classes: number,
  perClass: number,
  seed: number,
): Int32Array {
  checkInteger('classBalancedIndices', 'perClass', perClass, 0);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let index = 0; index < labels.length; index++) byClass[labels[index] as number]?.push(index);
  const random = createRandom(seed);
  const chosen: number[] = [];
  byClass.forEach((members, label) => {
    if (members.length < perClass) {
      throw new Error(
        `classBalancedIndices: class ${label} has ${members.length} samples; asked for ${perClass}.`,
      );
    }
    for (const pick of sampleWithoutReplacement(members.length, perClass, random)) {
      chosen.push(members[pick] as number);
    }
  });
  return Int32Array.from(chosen).sort();
}
