import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../testing/backends.js';
import { constantSchedule, cosineSchedule, linearWarmup, stepSchedule } from './learning-rate.js';
import { learningRateScheduler } from './callback.js';
import { sam } from '../core/sam.js';
import { AdamW } from '../optimizers/adamw.js';
import { getLearningRate, setLearningRate } from '../optimizers/registry.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);

test('schedules give the documented values', () => {
  assert.equal(constantSchedule(0.1)(1000), 0.1);
  const step = stepSchedule({ initial: 1, stepSize: 10, gamma: 0.5 });
  assert.deepEqual([0, 9, 10, 25].map(step), [1, 1, 0.5, 0.25]);
  const cosine = cosineSchedule({ initial: 1, totalSteps: 100, final: 0.1 });
  close(cosine(0), 1);
  close(cosine(50), 0.55);
  close(cosine(100), 0.1);
  close(cosine(150), 0.1);
  const warm = linearWarmup(cosine, { steps: 4, startFactor: 0 });
  assert.deepEqual([0, 1, 2, 3].map(warm), [0, 0.25, 0.5, 0.75]);
  close(warm(4), 1);
  close(warm(54), 0.55);
  assert.throws(
    () => cosineSchedule({ initial: 1, totalSteps: 0 }),
    /option 'totalSteps' is 0; expected an integer >= 1/,
  );
  assert.throws(() => stepSchedule({ initial: -1, stepSize: 1 }), /option 'initial' is -1/);
  assert.throws(
    () => linearWarmup(cosine, { steps: 2, startFactor: 2 }),
    /option 'startFactor' is 2/,
  );
});

test('setLearningRate works on every kind of optimizer, SAM included', async () => {
  await useBackend('cpu');
  const optimizers = [
    tf.train.sgd(1),
    tf.train.momentum(1, 0.9),
    tf.train.adam(1),
    tf.train.rmsprop(1),
    tf.train.adagrad(1),
    tf.train.adamax(1),
    tf.train.adadelta(1),
    new AdamW({ learningRate: 1 }),
    sam(tf.train.momentum(1, 0.9)),
  ];
  for (const optimizer of optimizers) {
    setLearningRate(optimizer, 0.25);
    assert.equal(getLearningRate(optimizer), 0.25, optimizer.getClassName());
  }
  assert.throws(() => setLearningRate(optimizers[0]!, -1), /learning rate is -1/);
  optimizers.forEach((o) => o.dispose());
});

test('the SGD step really uses the new rate (its cached -lr scalar is refreshed)', async () => {
  await useBackend('cpu');
  const w = tf.variable(tf.scalar(1), true, 'lr_schedule_test_w');
  const optimizer = sam(tf.train.sgd(1), { rho: 0 });
  setLearningRate(optimizer, 0.1);
  optimizer.minimize(() => tf.mul(w, 1) as tf.Scalar, false, [w]);
  assert.equal(w.dataSync()[0], Math.fround(0.9));
  optimizer.dispose();
  w.dispose();
});

test('learningRateScheduler drives fit per batch and per epoch', async () => {
  await useBackend('cpu');
  const model = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2] })] });
  const optimizer = sam(tf.train.sgd(1));
  model.compile({ optimizer, loss: 'meanSquaredError' });
  const x = tf.ones([8, 2]);
  const y = tf.zeros([8, 1]);
  const perBatch = learningRateScheduler((step) => 0.01 * (step + 1));
  const history = await model.fit(x, y, {
    epochs: 2,
    batchSize: 2,
    verbose: 0,
    callbacks: [perBatch],
  });
  assert.equal(perBatch.step, 8);
  close(getLearningRate(optimizer), 0.08);
  assert.deepEqual(history.history['lr'], [0.04, 0.08]);
  const perEpoch = learningRateScheduler((epoch) => 0.5 ** epoch, { unit: 'epoch' });
  await model.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, callbacks: [perEpoch] });
  close(getLearningRate(optimizer), 0.25);
  assert.throws(
    () => learningRateScheduler(() => 1, { unit: 'step' as never }),
    /option 'unit' is 'step'/,
  );
  optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
});
