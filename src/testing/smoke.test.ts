import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from './backends.js';

for (const backend of TEST_BACKENDS) {
  test(`${backend}: backend initializes and adds`, async () => {
    await useBackend(backend);
    assert.equal(tf.getBackend(), backend);
    const sum = tf.add(tf.scalar(1), tf.scalar(2));
    assert.equal((await sum.data())[0], 3);
    sum.dispose();
  });
}
