import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { useBackend } from '../testing/backends.js';
import { registerCpuTrainingKernels } from './cpu-kernels.js';

function segmentCases(): Array<() => tf.Tensor> {
  const x = () => tf.randomNormal([12, 3, 2], 0, 1, 'float32', 5);
  const ids = () => tf.tensor1d([0, 4, 4, 1, -1, 3, 0, 9, 2, 2, 4, 1], 'int32');
  return [
    () => tf.unsortedSegmentSum(x(), ids(), 6),
    () =>
      tf.unsortedSegmentSum(
        tf.tensor2d(
          [
            [1, 2],
            [3, 4],
            [5, 6],
          ],
          [3, 2],
          'int32',
        ),
        tf.tensor1d([1, 1, 0], 'int32'),
        2,
      ),
    // gather's gradient: an embedding table's.
    () =>
      tf.grad((table: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.gather(table, tf.tensor1d([3, 1, 3, 0], 'int32')),
            tf.reshape(tf.range(0, 4 * 5), [4, 5]),
          ),
        ),
      )(tf.ones([6, 5])),
  ];
}

test('cpu UnsortedSegmentSum: the same values as the stock kernel, out-of-range ids skipped, no leaks', async () => {
  await useBackend('cpu');
  const expected = segmentCases().map((run) => run().arraySync());
  const undo = registerCpuTrainingKernels();
  try {
    const actual = segmentCases().map((run) => {
      const out = run();
      const values = out.arraySync();
      out.dispose();
      return values;
    });
    for (const [i, values] of actual.entries()) {
      const flat = (v: unknown) => (v as number[]).flat(3) as number[];
      const e = flat(expected[i]);
      flat(values).forEach((v, j) =>
        assert.ok(Math.abs(v - e[j]!) < 1e-5, `case ${i} value ${j}: ${v} vs ${e[j]}`),
      );
    }
    const tensors = tf.memory().numTensors;
    tf.tidy(() => segmentCases()[0]!()).dispose();
    assert.equal(tf.memory().numTensors, tensors + 0, 'the kernel leaves nothing behind');
    assert.equal(
      registerCpuTrainingKernels()(),
      undefined,
      'a second registration changes nothing',
    );
  } finally {
    undo();
  }
});

test('cpu: an embedding gradient over a 2 000-word table takes milliseconds, not seconds', async () => {
  await useBackend('cpu');
  const undo = registerCpuTrainingKernels();
  try {
    const ids = tf.tensor1d(
      Array.from({ length: 2048 }, (_, i) => (i * 7) % 2000),
      'int32',
    );
    const table = tf.ones([2000, 32]);
    const started = performance.now();
    const gradient = tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, ids)))(table);
    gradient.dataSync();
    const ms = performance.now() - started;
    assert.ok(ms < 2000, `${ms.toFixed(0)} ms`);
    tf.dispose([ids, table, gradient]);
  } finally {
    undo();
  }
});
