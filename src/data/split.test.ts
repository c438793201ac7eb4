import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classCounts, subsetDataset } from './dataset.js';
import { createRandom, deriveSeed, permutation, sampleWithoutReplacement } from '../util/random.js';
import { classBalancedIndices, shuffleDataset, trainValidationSplit } from './split.js';
import type { ImageDataset } from './types.js';

/** `count` 2×2×1 images whose pixels all equal the sample index (mod 256); labels cycle. */
function tinyDataset(count: number, classes = 4): ImageDataset {
  const images = new Uint8Array(count * 4);
  for (let i = 0; i < images.length; i++) images[i] = Math.floor(i / 4) % 256;
  const labels = Uint8Array.from({ length: count }, (_, i) => i % classes);
  return { images, labels, shape: [2, 2, 1], count, classes };
}

test('mulberry32: deterministic per seed, different across seeds, in [0, 1)', () => {
  const draw = (seed: number) => {
    const random = createRandom(seed);
    return Array.from({ length: 1000 }, () => random.next());
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  const values = draw(123);
  assert.ok(values.every((value) => value >= 0 && value < 1));
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  // The widely quoted first output of the reference mulberry32 seeded with 1.
  assert.equal(createRandom(1).next(), 0.6270739405881613);
  assert.throws(() => createRandom(1.5), /seed is 1.5; expected an integer/);
});

test('permutation and sampling without replacement are valid and seeded', () => {
  const order = permutation(100, createRandom(3));
  assert.deepEqual(
    Array.from(order).sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  assert.deepEqual(order, permutation(100, createRandom(3)));
  const sample = sampleWithoutReplacement(50, 20, createRandom(4));
  assert.equal(new Set(sample).size, 20);
  assert.ok(sample.every((index) => index >= 0 && index < 50));
  assert.throws(() => sampleWithoutReplacement(5, 6, createRandom(0)), /cannot draw 6/);
  assert.notEqual(deriveSeed(1, 0), deriveSeed(1, 1));
  assert.notEqual(deriveSeed(1, 2), deriveSeed(2, 1));
  assert.equal(deriveSeed(9, 4), deriveSeed(9, 4));
});

test('shuffleDataset moves images and labels together, deterministically', () => {
  const dataset = tinyDataset(40);
  const shuffled = shuffleDataset(dataset, 11);
  assert.deepEqual(shuffled, shuffleDataset(dataset, 11));
  assert.notDeepEqual(shuffled.labels, dataset.labels);
  for (let row = 0; row < shuffled.count; row++) {
    const original = shuffled.images[row * 4] as number;
    assert.equal(shuffled.labels[row], original % 4, 'label follows its image');
  }
});

test('trainValidationSplit: disjoint, complete, seeded, stratified by class', () => {
  const dataset = tinyDataset(103, 4);
  const split = trainValidationSplit(dataset, { validationFraction: 0.2, seed: 5 });
  assert.equal(split.validation.count, 21); // round(0.2 × 103)
  assert.equal(split.train.count, 82);
  const all = [...split.trainIndices, ...split.validationIndices].sort((a, b) => a - b);
  assert.deepEqual(
    all,
    Array.from({ length: 103 }, (_, i) => i),
    'every sample exactly once',
  );
  const again = trainValidationSplit(dataset, { validationFraction: 0.2, seed: 5 });
  assert.deepEqual(again.validationIndices, split.validationIndices);
  const other = trainValidationSplit(dataset, { validationFraction: 0.2, seed: 6 });
  assert.notDeepEqual(other.validationIndices, split.validationIndices);
  // Classes hold 26, 26, 26, 25 samples; 21 validation samples apportion as 6, 5, 5, 5.
  assert.deepEqual(classCounts(split.validation.labels, 4), [6, 5, 5, 5]);
  assert.deepEqual(split.validation, subsetDataset(dataset, split.validationIndices));
  const plain = trainValidationSplit(dataset, {
    validationFraction: 0.2,
    seed: 5,
    stratified: false,
  });
  assert.equal(plain.validation.count, 21);
});

test('trainValidationSplit rejects fractions that leave a part empty', () => {
  const dataset = tinyDataset(10);
  assert.throws(
    () => trainValidationSplit(dataset, { validationFraction: 0, seed: 1 }),
    /option 'validationFraction' is 0; expected a number in \(0, 1\)/,
  );
  assert.throws(
    () => trainValidationSplit(dataset, { validationFraction: 0.01, seed: 1 }),
    /leaves 0 for validation and 10 for training/,
  );
});

test('classBalancedIndices: exactly perClass of each class, ascending, seeded', () => {
  const labels = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) % 3);
  const chosen = classBalancedIndices(labels, 3, 40, 9);
  assert.equal(chosen.length, 120);
  assert.deepEqual(
    classCounts(
      Array.from(chosen, (index) => labels[index] as number),
      3,
    ),
    [40, 40, 40],
  );
  assert.ok(chosen.every((index, i) => i === 0 || index > (chosen[i - 1] as number)));
  assert.deepEqual(chosen, classBalancedIndices(labels, 3, 40, 9));
  assert.notDeepEqual(chosen, classBalancedIndices(labels, 3, 40, 10));
  assert.throws(
    () => classBalancedIndices(labels, 3, 101, 9),
    /class 0 has 100 samples; asked for 101/,
  );
});
