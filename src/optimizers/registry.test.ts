import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { sam } from '../core/sam.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { msam } from '../variants/msam.js';
import { disposeOptimizer } from './registry.js';
import { withWeightDecay } from './weight-decay.js';

for (const backend of TEST_BACKENDS) {
  test(`${backend}: disposing a momentum optimizer, alone or wrapped, frees every tensor it made`, async () => {
    await useBackend(backend);
    const start = tf.memory().numTensors;
    disposeOptimizer(tf.train.momentum(0.1, 0.9));
    sam(tf.train.momentum(0.1, 0.9)).dispose();
    msam(tf.train.momentum(0.1, 0.9)).dispose();
    withWeightDecay(tf.train.momentum(0.1, 0.9), 1e-4).dispose();
    assert.equal(tf.memory().numTensors, start);
  });
}
