/**
 * Every kind of dataset the trainer takes — images, token sequences with a class, windows of a
 * token stream — behind one set of functions: counts, subsets, and the input and target tensors
 * of a batch. Classification targets are one-hot [n, classes]; next-token targets are the ids
 * [n, seqLength, 1].
 */
import type * as tf from '@tensorflow/tfjs-core';
import { subsetDataset, validateDataset } from './dataset.js';
import { imagesToTensor, labelsToTensor } from './tensors.js';
import { tokensToTensor, windowsToTensors } from './text/tensors.js';
import type { NextTokenDataset, TokenDataset } from './text/types.js';
import type { ImageDataset } from './types.js';

export type Examples = ImageDataset | TokenDataset | NextTokenDataset;

/** What a model trained on `examples` predicts: one class per example, or the next token at each position. */
export type ExamplesTask = 'classification' | 'next-token';

export function isImageDataset(examples: Examples): examples is ImageDataset {
  return !('kind' in examples);
}

export function examplesTask(examples: Examples): ExamplesTask {
  return !isImageDataset(examples) && examples.kind === 'next-token'
    ? 'next-token'
    : 'classification';
}

/** Classes a classifier outputs, or the vocabulary size a language model predicts over. */
export function outputClasses(examples: Examples): number {
  return isImageDataset(examples) || examples.kind === 'tokens'
    ? examples.classes
    : examples.vocabSize;
}

/** The class labels of a classification dataset; null for next-token windows. */
export function exampleLabels(examples: Examples): Uint8Array | Int32Array | null {
  return isImageDataset(examples) || examples.kind === 'tokens' ? examples.labels : null;
}

/** Throws when the arrays of `examples` disagree with its count and sizes. */
export function validateExamples(examples: Examples, name = 'dataset'): void {
  if (isImageDataset(examples)) return validateDataset(examples, name);
  const width = examples.kind === 'tokens' ? examples.seqLength : examples.seqLength + 1;
  if (examples.tokens.length !== examples.count * width) {
    throw new Error(
      `${name}: tokens has ${examples.tokens.length} ids; expected count × ${width} = ${examples.count * width}.`,
    );
  }
  if (examples.kind === 'tokens' && examples.labels.length !== examples.count) {
    throw new Error(
      `${name}: labels has ${examples.labels.length} entries; expected count = ${examples.count}.`,
    );
  }
}

/** A new dataset of the same kind holding the examples at `indices`, in that order. */
export function subsetExamples<E extends Examples>(examples: E, indices: ArrayLike<number>): E {
  if (isImageDataset(examples)) return subsetDataset(examples, indices) as E;
  const width = examples.kind === 'tokens' ? examples.seqLength : examples.seqLength + 1;
  const tokens = new Int32Array(indices.length * width);
  for (let r = 0; r < indices.length; r++) {
    const index = indices[r] as number;
    if (!Number.isInteger(index) || index < 0 || index >= examples.count) {
      throw new Error(`subsetExamples: index ${index} is out of range 0..${examples.count - 1}.`);
    }
    tokens.set(examples.tokens.subarray(index * width, (index + 1) * width), r * width);
  }
  if (examples.kind === 'tokens') {
    const labels = Int32Array.from(indices, (i) => examples.labels[i] as number);
    return { ...examples, tokens, labels, count: indices.length } as E;
  }
  return { ...examples, tokens, count: indices.length } as E;
}

/** The input tensor of the examples at `indices`: images [n, h, w, c] or token ids [n, T]. */
export function exampleInputs(examples: Examples, indices: ArrayLike<number>): tf.Tensor {
  if (isImageDataset(examples)) return imagesToTensor(examples, indices);
  if (examples.kind === 'tokens') return tokensToTensor(examples, indices);
  const { xs, ys } = windowsToTensors(examples, indices);
  ys.dispose();
  return xs;
}

/** Inputs and targets of the examples at `indices` (targets as the trainer's loss reads them). */
export function exampleTensors(
  examples: Examples,
  indices: ArrayLike<number>,
  { oneHot = true }: { oneHot?: boolean } = {},
): { xs: tf.Tensor; ys: tf.Tensor } {
  if (!isImageDataset(examples) && examples.kind === 'next-token')
    return windowsToTensors(examples, indices);
  const xs = exampleInputs(examples, indices);
  const labels = exampleLabels(examples) as Uint8Array | Int32Array;
  const ys = labelsToTensor(
    Int32Array.from(indices, (i) => labels[i] as number),
    outputClasses(examples),
    { oneHot },
  );
  return { xs, ys };
}
