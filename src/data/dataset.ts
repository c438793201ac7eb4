import { checkLabelRange } from './idx.js';
import type { ImageDataset } from './types.js';

/** Throws when the arrays of `dataset` disagree with its count, shape or classes. */
export function validateDataset(dataset: ImageDataset, name = 'dataset'): void {
  const { images, labels, shape, count, classes } = dataset;
  if (!Number.isInteger(count) || count < 0) {
    throw new Error(`${name}: count is ${count}; expected a non-negative integer.`);
  }
  if (!Number.isInteger(classes) || classes < 1) {
    throw new Error(`${name}: classes is ${classes}; expected a positive integer.`);
  }
  if (shape.length !== 3 || shape.some((size) => !Number.isInteger(size) || size < 1)) {
    throw new Error(
      `${name}: shape is [${shape.join(', ')}]; expected [height, width, channels] of positive integers.`,
    );
  }
  const pixels = shape[0] * shape[1] * shape[2];
  if (images.length !== count * pixels) {
    throw new Error(
      `${name}: images has ${images.length} values; expected count × h × w × c = ` +
        `${count} × ${shape.join(' × ')} = ${count * pixels}.`,
    );
  }
  if (labels.length !== count) {
    throw new Error(`${name}: labels has ${labels.length} entries; expected count = ${count}.`);
  }
  checkLabelRange(labels, classes, name);
  if (dataset.classNames && dataset.classNames.length !== classes) {
    throw new Error(
      `${name}: classNames has ${dataset.classNames.length} entries; expected classes = ${classes}.`,
    );
  }
}

export function pixelsPerImage(dataset: Pick<ImageDataset, 'shape'>): number {
  return dataset.shape[0] * dataset.shape[1] * dataset.shape[2];
}

/** A new dataset holding copies of the samples at `indices`, in that order. */
export function subsetDataset(dataset: ImageDataset, indices: ArrayLike<number>): ImageDataset {
  const pixels = pixelsPerImage(dataset);
  const images = new (
    dataset.images.constructor as Uint8ArrayConstructor | Float32ArrayConstructor
  )(indices.length * pixels);
  const labels = new (dataset.labels.constructor as Uint8ArrayConstructor | Int32ArrayConstructor)(
    indices.length,
  );
  for (let row = 0; row < indices.length; row++) {
    const index = indices[row] as number;
    if (!Number.isInteger(index) || index < 0 || index >= dataset.count) {
      throw new Error(`subsetDataset: index ${index} is out of range 0..${dataset.count - 1}.`);
    }
    images.set(dataset.images.subarray(index * pixels, (index + 1) * pixels), row * pixels);
    labels[row] = dataset.labels[index] as number;
  }
  return { ...dataset, images, labels, count: indices.length, shape: [...dataset.shape] };
}

/** How many samples carry each class, indexed by class. */
export function classCounts(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let index = 0; index < labels.length; index++) {
    const label = labels[index] as number;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}
