import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitBatch } from './split.js';

test('splitBatch: contiguous slices covering the batch, weights summing to 1', () => {
  for (const [rows, parts] of [
    [12, 2],
    [11, 2],
    [10, 3],
    [256, 3],
    [7, 7],
  ] as const) {
    const slices = splitBatch(rows, parts);
    assert.equal(slices.length, parts);
    let next = 0;
    for (const slice of slices) {
      assert.equal(slice.start, next, `rows ${rows} parts ${parts}`);
      next += slice.size;
    }
    assert.equal(next, rows);
    const sizes = slices.map((s) => s.size);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `as even as possible: ${sizes}`);
    assert.ok(Math.abs(slices.reduce((sum, s) => sum + s.weight, 0) - 1) < 1e-12);
  }
  assert.deepEqual(
    splitBatch(10, 3).map((s) => s.size),
    [3, 4, 3],
  );
  assert.deepEqual(
    splitBatch(11, 2).map((s) => [s.start, s.size]),
    [
      [0, 6],
      [6, 5],
    ],
  );
});

test('splitBatch: fewer rows than parts leaves empty slices of weight 0', () => {
  const slices = splitBatch(2, 4);
  assert.deepEqual(
    slices.map((s) => s.size),
    [1, 0, 1, 0],
  );
  assert.deepEqual(
    slices.map((s) => s.weight),
    [0.5, 0, 0.5, 0],
  );
});

test('splitBatch: refuses empty batches and bad part counts', () => {
  assert.throws(() => splitBatch(0, 2), /at least one row/);
  assert.throws(() => splitBatch(4, 0), /positive integer number of parts/);
  assert.throws(() => splitBatch(4, 1.5), /positive integer number of parts/);
});
