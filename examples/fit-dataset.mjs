// model.fitDataset with a tf.data pipeline (the @tensorflow/tfjs package): a generator of
// samples, shuffled and batched, trains a model whose optimizer is SAM.
//
//   node examples/fit-dataset.mjs      (from a clone: npm run build first)
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { sam } from 'tfjs-sam';

await tf.setBackend('wasm');
function* samples() {
  for (let i = 0; i < 400; i++) {
    const label = i % 2;
    const angle = (i * 2.399) % (2 * Math.PI);
    const radius = label === 0 ? 1 : 2.5;
    yield {
      xs: [radius * Math.cos(angle), radius * Math.sin(angle)],
      ys: label === 0 ? [1, 0] : [0, 1],
    };
  }
}
const dataset = tf.data
  .generator(samples)
  .map(({ xs, ys }) => ({ xs: tf.tensor1d(xs), ys: tf.tensor1d(ys) }))
  .shuffle(400, '7')
  .batch(32);

const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 16, inputShape: [2], activation: 'relu' }),
    tf.layers.dense({ units: 2, activation: 'softmax' }),
  ],
});
model.compile({
  optimizer: sam(tf.train.adam(0.02), { rho: 0.05 }),
  loss: 'categoricalCrossentropy',
  metrics: ['accuracy'],
});
const history = await model.fitDataset(dataset, { epochs: 8, verbose: 0 });
const accuracy = history.history['acc'].at(-1);
console.log(
  `fitDataset with SAM: training accuracy ${(accuracy * 100).toFixed(1)}% after 8 epochs`,
);
