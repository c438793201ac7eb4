import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import { batchCount, batches } from './batches.js';
import { imagesToTensor, labelsToTensor } from './tensors.js';
import type { ImageDataset } from './types.js';

function tinyDataset(count: number): ImageDataset {
  const images = new Uint8Array(count * 4);
  for (let i = 0; i < images.length; i++) images[i] = (Math.floor(i / 4) * 10 + (i % 4)) % 256;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 3);
  return { images, labels, shape: [2, 2, 1], count, classes: 3 };
}

test('imagesToTensor scales bytes to [0, 1] as float32 NHWC; labelsToTensor one-hot or int', async () => {
  await useBackend('cpu');
  const dataset = tinyDataset(3);
  const before = tf.memory().numTensors;
  const xs = imagesToTensor(dataset, [2, 0]);
  assert.deepEqual(xs.shape, [2, 2, 2, 1]);
  assert.equal(xs.dtype, 'float32');
  assert.deepEqual(
    xs.dataSync(),
    Float32Array.from([20, 21, 22, 23, 0, 1, 2, 3], (v) => v / 255),
  );
  const oneHot = labelsToTensor([2, 0], 3);
  assert.deepEqual(oneHot.arraySync(), [
    [0, 0, 1],
    [1, 0, 0],
  ]);
  const sparse = labelsToTensor([2, 0], 3, { oneHot: false });
  assert.equal(sparse.dtype, 'int32');
  assert.throws(() => labelsToTensor([3], 3), /label 3 at 0 is out of range 0\.\.2/);
  tf.dispose([xs, oneHot, sparse]);
  assert.equal(tf.memory().numTensors, before);
});

test('batches: every sample once per epoch, sizes, seeded order per epoch, no leaks', async () => {
  await useBackend('cpu');
  const dataset = tinyDataset(10);
  const before = tf.memory().numTensors;
  const orderOf = (epoch: number) => {
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const batch of batches(dataset, { batchSize: 4, shuffle: true, seed: 1, epoch })) {
      assert.deepEqual(batch.xs.shape.slice(1), [2, 2, 1]);
      assert.deepEqual(batch.ys.shape, [batch.indices.length, 3]);
      const expected = imagesToTensor(dataset, batch.indices);
      assert.deepEqual(batch.xs.dataSync(), expected.dataSync());
      expected.dispose();
      const argMax = tf.argMax(batch.ys, -1);
      const labels = argMax.dataSync();
      argMax.dispose();
      batch.indices.forEach((index, row) => assert.equal(labels[row], dataset.labels[index]));
      seen.push(...batch.indices);
      sizes.push(batch.indices.length);
      batch.dispose();
    }
    return { seen, sizes };
  };
  const epoch0 = orderOf(0);
  assert.deepEqual(epoch0.sizes, [4, 4, 2]);
  assert.deepEqual(
    [...epoch0.seen].sort((a, b) => a - b),
    Array.from({ length: 10 }, (_, i) => i),
  );
  assert.deepEqual(orderOf(0).seen, epoch0.seen, 'same seed and epoch, same order');
  assert.notDeepEqual(orderOf(1).seen, epoch0.seen, 'next epoch, new order');
  assert.equal(tf.memory().numTensors, before);
});

test('batches: stored order without shuffle, dropRemainder, int labels, early exit leaks nothing', async () => {
  await useBackend('cpu');
  const dataset = tinyDataset(10);
  const before = tf.memory().numTensors;
  const seen: number[] = [];
  for (const batch of batches(dataset, { batchSize: 4, dropRemainder: true, oneHot: false })) {
    assert.equal(batch.ys.dtype, 'int32');
    seen.push(...batch.indices);
    batch.dispose();
  }
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(batchCount(10, 4, true), 2);
  assert.equal(batchCount(10, 4), 3);
  for (const batch of batches(dataset, { batchSize: 3 })) {
    batch.dispose();
    break;
  }
  assert.equal(tf.memory().numTensors, before);
  assert.throws(
    () => batches(dataset, { batchSize: 2, shuffle: true }).next(),
    /no seed was given/,
  );
  assert.throws(() => batches(dataset, { batchSize: 0 }).next(), /'batchSize' is 0/);
});
