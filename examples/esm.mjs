// An ES module program on tfjs-core + tfjs-layers and the wasm backend: SAM over momentum under
// model.fit, with a learning-rate schedule.
//
//   node examples/esm.mjs      (from a clone: npm run build first)
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { cosineSchedule, learningRateScheduler, sam } from 'tfjs-sam';

await tf.setBackend('wasm');
const labels = tf.tensor1d(
  Array.from({ length: 512 }, (_, i) => i % 4),
  'int32',
);
const xs = tf.add(
  tf.gather(tf.randomNormal([4, 8], 0, 2, 'float32', 3), labels),
  tf.randomNormal([512, 8], 0, 1, 'float32', 4),
);
const ys = tf.oneHot(labels, 4);

const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ units: 32, inputShape: [8], activation: 'relu' }),
    tfl.layers.dense({ units: 4, activation: 'softmax' }),
  ],
});
model.compile({
  optimizer: sam(tf.train.momentum(0.1, 0.9), { rho: 0.05 }),
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
});
const schedule = cosineSchedule({ initial: 0.1, totalSteps: 4 * 16 });
const history = await model.fit(xs, ys, {
  epochs: 4,
  batchSize: 32,
  verbose: 0,
  callbacks: [learningRateScheduler(schedule)],
});
const accuracy = history.history['acc'].at(-1);
console.log(`trained 4 epochs with SAM: training accuracy ${(accuracy * 100).toFixed(1)}%`);
tf.dispose([labels, xs, ys]);
