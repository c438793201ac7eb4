import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addSymmetricLabelNoise } from './label-noise.js';

const labels = Uint8Array.from({ length: 1001 }, (_, i) => (i * 3) % 10);

test('flips exactly round(fraction × n) labels, each to a different class', () => {
  for (const fraction of [0, 0.1, 0.4, 0.8, 1]) {
    const input = labels.slice();
    const noisy = addSymmetricLabelNoise(input, { fraction, classes: 10, seed: 3 });
    const expected = Math.round(fraction * labels.length);
    assert.equal(noisy.flippedIndices.length, expected, `fraction ${fraction}`);
    let changed = 0;
    for (let i = 0; i < labels.length; i++) if (noisy.labels[i] !== labels[i]) changed++;
    assert.equal(changed, expected, 'every flipped label changed, no other label did');
    for (const index of noisy.flippedIndices) {
      assert.notEqual(noisy.labels[index], labels[index]);
      assert.ok((noisy.labels[index] as number) < 10);
    }
    assert.deepEqual(input, labels, 'input untouched');
    assert.deepEqual(noisy.cleanLabels, labels);
    assert.ok(noisy.labels instanceof Uint8Array);
  }
});

test('seeded: same seed same noise, another seed other noise', () => {
  const a = addSymmetricLabelNoise(labels, { fraction: 0.3, classes: 10, seed: 1 });
  const b = addSymmetricLabelNoise(labels, { fraction: 0.3, classes: 10, seed: 1 });
  const c = addSymmetricLabelNoise(labels, { fraction: 0.3, classes: 10, seed: 2 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.flippedIndices, c.flippedIndices);
});

test('new classes are uniform over the other classes', () => {
  const ones = new Int32Array(20000).fill(4);
  const noisy = addSymmetricLabelNoise(ones, { fraction: 1, classes: 5, seed: 8 });
  const counts = [0, 0, 0, 0, 0];
  for (const label of noisy.labels) counts[label] = (counts[label] ?? 0) + 1;
  assert.equal(counts[4], 0);
  for (const count of counts.slice(0, 4)) assert.ok(Math.abs(count - 5000) < 300, `${counts}`);
});

test('rejects bad options and out-of-range labels', () => {
  assert.throws(
    () => addSymmetricLabelNoise(labels, { fraction: 1.2, classes: 10, seed: 1 }),
    /option 'fraction' is 1.2; expected a number in \[0, 1\]/,
  );
  assert.throws(
    () => addSymmetricLabelNoise(labels, { fraction: 0.5, classes: 1, seed: 1 }),
    /option 'classes' is 1; expected an integer >= 2/,
  );
  assert.throws(
    () => addSymmetricLabelNoise(labels, { fraction: 0.5, classes: 5, seed: 1 }),
    /label 6 at sample 2 is out of range; expected 0\.\.4/,
  );
});
