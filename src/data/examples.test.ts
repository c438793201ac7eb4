import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import { batches, exampleBatches } from './batches.js';
import { exampleTensors, outputClasses, subsetExamples, examplesTask } from './examples.js';
import type { NextTokenDataset, TokenDataset } from './text/types.js';
import type { ImageDataset } from './types.js';

const tokens: TokenDataset = {
  kind: 'tokens',
  tokens: Int32Array.from([1, 2, 0, 3, 4, 5, 6, 0, 0]),
  seqLength: 3,
  count: 3,
  labels: Int32Array.from([0, 1, 1]),
  classes: 2,
  vocabSize: 7,
};
const windows: NextTokenDataset = {
  kind: 'next-token',
  tokens: Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
  seqLength: 3,
  count: 2,
  vocabSize: 9,
};

test('subsets, tasks and output classes of token rows and next-token windows', () => {
  const subset = subsetExamples(tokens, [2, 0]);
  assert.deepEqual([...subset.tokens], [6, 0, 0, 1, 2, 0]);
  assert.deepEqual([...subset.labels], [1, 0]);
  assert.deepEqual([...subsetExamples(windows, [1]).tokens], [5, 6, 7, 8]);
  assert.equal(examplesTask(tokens), 'classification');
  assert.equal(examplesTask(windows), 'next-token');
  assert.equal(outputClasses(tokens), 2);
  assert.equal(outputClasses(windows), 9);
  assert.throws(() => subsetExamples(windows, [2]), /index 2 is out of range 0..1/);
});

test('tensors: ids int32 [n, T] with one-hot labels; windows shift by one token', async () => {
  await useBackend('cpu');
  const a = exampleTensors(tokens, [1]);
  assert.deepEqual(a.xs.arraySync(), [[3, 4, 5]]);
  assert.equal(a.xs.dtype, 'int32');
  assert.deepEqual(a.ys.arraySync(), [[0, 1]]);
  const b = exampleTensors(windows, [1, 0]);
  assert.deepEqual(b.xs.arraySync(), [
    [5, 6, 7],
    [1, 2, 3],
  ]);
  assert.deepEqual(b.ys.arraySync(), [
    [[6], [7], [8]],
    [[2], [3], [4]],
  ]);
  tf.dispose([a.xs, a.ys, b.xs, b.ys]);
});

test('exampleBatches on images gives the batches of batches(), tensor for tensor', async () => {
  await useBackend('cpu');
  const images: ImageDataset = {
    images: Uint8Array.from({ length: 10 * 4 }, (_, i) => (i * 37) % 256),
    labels: Uint8Array.from({ length: 10 }, (_, i) => i % 3),
    shape: [2, 2, 1],
    count: 10,
    classes: 3,
  };
  const options = { batchSize: 4, shuffle: true, seed: 5, epoch: 2 };
  const expected = [...batches(images, options)];
  const actual = [...exampleBatches(images, options)];
  assert.equal(actual.length, expected.length);
  actual.forEach((batch, i) => {
    assert.deepEqual(batch.indices, expected[i]!.indices);
    assert.deepEqual(batch.xs.dataSync(), expected[i]!.xs.dataSync());
    assert.deepEqual(batch.ys.dataSync(), expected[i]!.ys.dataSync());
    batch.dispose();
    expected[i]!.dispose();
  });
});
