// The browser example: tfjs-sam's sam() as the optimizer of a tfjs-layers model on the webgl
// backend (the cpu backend if the browser has no WebGL). The page's state is in
// window.__example for the end-to-end test (web/e2e/run.ts).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-cpu';
import { sam } from 'tfjs-sam';

const state = { backend: null, losses: [], done: false, error: null };
window.__example = state;

async function main() {
  state.backend = (await tf.setBackend('webgl')) ? 'webgl' : (await tf.setBackend('cpu'), 'cpu');
  await tf.ready();
  document.querySelector('#backend').textContent = tf.getBackend();
  const labels = tf.tensor1d(
    Array.from({ length: 256 }, (_, i) => i % 3),
    'int32',
  );
  const xs = tf.add(
    tf.gather(tf.randomNormal([3, 10], 0, 2, 'float32', 1), labels),
    tf.randomNormal([256, 10], 0, 1, 'float32', 2),
  );
  const ys = tf.oneHot(labels, 3);
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 24, inputShape: [10], activation: 'relu' }),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({
    optimizer: sam(tf.train.momentum(0.05, 0.9), { rho: 0.05 }),
    loss: 'categoricalCrossentropy',
  });
  await model.fit(xs, ys, {
    epochs: 5,
    batchSize: 32,
    callbacks: {
      onEpochEnd: (epoch, logs) => {
        state.losses.push(logs.loss);
        const item = document.createElement('li');
        item.textContent = `epoch ${epoch + 1}: loss ${logs.loss.toFixed(4)}`;
        document.querySelector('#epochs').append(item);
      },
    },
  });
  state.done = true;
}

main().catch((error) => {
  state.error = String(error?.stack ?? error);
});
