import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import {
  applyAugmentationPlan,
  augmentImages,
  createAugmenter,
  cutout,
  drawAugmentationPlan,
  flipHorizontal,
  randomCrop,
  randomHorizontalFlip,
} from './augment.js';
import { createRandom } from '../util/random.js';

/** n images of h×w×c whose values encode (sample, row, column, channel), all ≥ 1. */
function codedImages(n: number, h: number, w: number, c: number): tf.Tensor4D {
  const values = new Float32Array(n * h * w * c);
  for (let i = 0; i < values.length; i++) values[i] = i + 1;
  return tf.tensor4d(values, [n, h, w, c]);
}

test('flip on a hand-made 1×2×3×1 image mirrors each row', async () => {
  await useBackend('cpu');
  const image = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 2, 3, 1]);
  const expected = [
    [
      [[3], [2], [1]],
      [[6], [5], [4]],
    ],
  ];
  const flipped = flipHorizontal(image);
  assert.deepEqual(flipped.arraySync(), expected);
  const always = randomHorizontalFlip(image, { probability: 1, seed: 0 });
  assert.deepEqual(always.arraySync(), expected);
  const never = randomHorizontalFlip(image, { probability: 0, seed: 0 });
  assert.deepEqual(never.arraySync(), image.arraySync());
  // A hand-made RGB pixel pair: channels stay together when mirrored.
  const rgb = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
  const rgbFlipped = randomHorizontalFlip(rgb, { probability: 1, seed: 0 });
  assert.deepEqual(Array.from(rgbFlipped.dataSync()), [4, 5, 6, 1, 2, 3]);
  tf.dispose([image, flipped, always, never, rgb, rgbFlipped]);
});

test('crop + flip equals the zero-padded image sliced at the drawn offsets, then mirrored', async () => {
  await useBackend('cpu');
  const images = codedImages(6, 5, 4, 2);
  const options = { padding: 2, flip: true };
  const plan = drawAugmentationPlan(6, 5, 4, options, createRandom(21));
  const cropped = applyAugmentationPlan(images, plan, options);
  assert.deepEqual(cropped.shape, [6, 5, 4, 2]);
  const padded = tf.pad(images, [
    [0, 0],
    [2, 2],
    [2, 2],
    [0, 0],
  ]);
  for (let sample = 0; sample < 6; sample++) {
    const dy = plan.offsetY[sample] as number;
    const dx = plan.offsetX[sample] as number;
    assert.ok(dy >= 0 && dy <= 4 && dx >= 0 && dx <= 4);
    const slice = tf.slice(padded, [sample, dy, dx, 0], [1, 5, 4, 2]);
    const expected = plan.flip[sample] === 1 ? tf.reverse(slice, 2) : tf.clone(slice);
    const actual = tf.slice(cropped, [sample, 0, 0, 0], [1, 5, 4, 2]);
    assert.deepEqual(actual.arraySync(), expected.arraySync(), `sample ${sample}`);
    tf.dispose([slice, expected, actual]);
  }
  assert.ok(plan.flip.includes(1) && plan.flip.includes(0), 'some samples flipped, some not');
  const offsets = new Set(Array.from(plan.offsetY, (dy, i) => `${dy},${plan.offsetX[i]}`));
  assert.ok(offsets.size > 1, 'offsets vary between samples');
  tf.dispose([images, cropped, padded]);
});

test('cutout zeroes one clipped square per image and nothing else', async () => {
  await useBackend('cpu');
  const images = codedImages(8, 6, 6, 1);
  const options = { cutout: 3 };
  const plan = drawAugmentationPlan(8, 6, 6, options, createRandom(5));
  const result = applyAugmentationPlan(images, plan, options);
  const values = result.dataSync();
  const original = images.dataSync();
  for (let sample = 0; sample < 8; sample++) {
    const cy = plan.cutoutY[sample] as number;
    const cx = plan.cutoutX[sample] as number;
    for (let y = 0; y < 6; y++) {
      for (let x = 0; x < 6; x++) {
        const i = (sample * 6 + y) * 6 + x;
        const inside = y >= cy - 1 && y <= cy + 1 && x >= cx - 1 && x <= cx + 1;
        assert.equal(values[i], inside ? 0 : original[i], `sample ${sample} (${y}, ${x})`);
      }
    }
  }
  tf.dispose([images, result]);
});

test('augmentation is seeded, keeps the shape, and leaks no tensor', async () => {
  await useBackend('cpu');
  const images = codedImages(4, 8, 8, 3);
  const options = { padding: 2, flip: true, cutout: 3 };
  const before = tf.memory().numTensors;
  const a = augmentImages(images, { ...options, seed: 9 });
  const b = augmentImages(images, { ...options, seed: 9 });
  const c = augmentImages(images, { ...options, seed: 10 });
  assert.deepEqual(a.shape, [4, 8, 8, 3]);
  assert.deepEqual(a.dataSync(), b.dataSync());
  assert.notDeepEqual(a.dataSync(), c.dataSync());
  tf.dispose([a, b, c]);
  for (const run of [
    () => randomCrop(images, { padding: 1, seed: 1 }),
    () => cutout(images, { size: 2, seed: 1 }),
    () => augmentImages(images, { seed: 1 }),
  ]) {
    run().dispose();
  }
  const augmenter = createAugmenter({ ...options, seed: 3 });
  const replay = createAugmenter({ ...options, seed: 3 });
  const first = augmenter(images);
  const second = augmenter(images);
  const replayFirst = replay(images);
  const replaySecond = replay(images);
  assert.notDeepEqual(first.dataSync(), second.dataSync(), 'the stream advances per call');
  assert.deepEqual(first.dataSync(), replayFirst.dataSync());
  assert.deepEqual(second.dataSync(), replaySecond.dataSync());
  tf.dispose([first, second, replayFirst, replaySecond]);
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  assert.equal(images.isDisposed, false, 'the input is not disposed');
  images.dispose();
});

test('rejects non-NHWC input and bad options with the value', async () => {
  await useBackend('cpu');
  const flat = tf.zeros([2, 3]);
  assert.throws(
    () => augmentImages(flat as unknown as tf.Tensor4D, { flip: true, seed: 1 }),
    /images have shape \[2, 3\]; expected a rank-4 NHWC batch/,
  );
  const images = tf.zeros([1, 2, 2, 1]) as tf.Tensor4D;
  assert.throws(
    () => augmentImages(images, { padding: -1, seed: 1 }),
    /option 'padding' is -1; expected an integer >= 0/,
  );
  tf.dispose([flat, images]);
});
