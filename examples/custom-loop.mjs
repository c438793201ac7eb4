// A custom training loop: SAM's two-call API (firstStep at w, secondStep at w + ε), as in the
// papers' code, and the one-call optimizer.step(lossFn). Every tensor is disposed.
//
//   node examples/custom-loop.mjs      (from a clone: npm run build first)
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { sam } from 'tfjs-sam';

await tf.setBackend('wasm');
const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ units: 16, inputShape: [4], activation: 'tanh' }),
    tfl.layers.dense({ units: 1 }),
  ],
});
const optimizer = sam(tf.train.sgd(0.05), { rho: 0.05 });
const x = tf.randomNormal([64, 4], 0, 1, 'float32', 1);
const y = tf.sum(tf.sin(x), 1, true);
const lossFn = () => tf.losses.meanSquaredError(y, model.apply(x)); // a scalar

const before = tf.memory().numTensors;
for (let step = 0; step < 50; step++) {
  const first = tf.variableGrads(lossFn); // gradient at w
  optimizer.firstStep(first.grads); // w ← w + ε
  const second = tf.variableGrads(lossFn); // gradient at w + ε
  optimizer.secondStep(second.grads); // back to w, the base optimizer applies it
  tf.dispose([
    first.value,
    second.value,
    ...Object.values(first.grads),
    ...Object.values(second.grads),
  ]);
}
const loss = optimizer.step(lossFn); // the same in one call; returns the loss at w
console.log(`custom loop: loss ${loss.dataSync()[0].toFixed(4)} after 51 SAM steps`);
loss.dispose();
if (tf.memory().numTensors !== before) {
  throw new Error(`the loop leaked ${tf.memory().numTensors - before} tensors`);
}
tf.dispose([x, y]);
optimizer.dispose();
