// A CommonJS Node program in the style of tfjs-examples' mnist-node: require() the @tensorflow/tfjs
// package and the wasm backend (no tfjs-node), model.fit with a validation split and a progress
// line per epoch, SAM as the optimizer, then model.save('file://…') through tfjs-sam/node.
//
//   node examples/commonjs.cjs [out-folder]      (from a clone: npm run build first)
'use strict';
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const tf = require('@tensorflow/tfjs');
require('@tensorflow/tfjs-backend-wasm');
const { sam } = require('tfjs-sam');
require('tfjs-sam/node'); // file:// save and load handlers

/** Two Gaussian blobs per class in 16 dimensions: 3 classes, 600 samples. */
function data(count, seed) {
  return tf.tidy(() => {
    const labels = tf.tensor1d(
      Array.from({ length: count }, (_, i) => i % 3),
      'int32',
    );
    const centers = tf.randomNormal([3, 16], 0, 0.4, 'float32', 7);
    const xs = tf.add(
      tf.gather(centers, labels),
      tf.randomNormal([count, 16], 0, 1, 'float32', seed),
    );
    return { xs, ys: tf.oneHot(labels, 3) };
  });
}

async function main() {
  await tf.setBackend('wasm');
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 32, inputShape: [16], activation: 'relu' }),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({
    optimizer: sam(tf.train.momentum(0.05, 0.9), { rho: 0.05 }),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const { xs, ys } = data(600, 1);
  await model.fit(xs, ys, {
    epochs: 5,
    batchSize: 32,
    validationSplit: 0.15,
    verbose: 0,
    callbacks: {
      onEpochEnd: (epoch, logs) =>
        console.log(
          `epoch ${epoch + 1}: loss ${logs.loss.toFixed(3)}, validation accuracy ${(logs.val_acc * 100).toFixed(1)}%`,
        ),
    },
  });
  const out = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'tfjs-sam-commonjs-'));
  await model.save(`file://${out}`, { includeOptimizer: true });
  const loaded = await tf.loadLayersModel(`file://${join(out, 'model.json')}`);
  console.log(
    `saved to ${out} and loaded back with its ${loaded.optimizer.getClassName()} optimizer`,
  );
  tf.dispose([xs, ys]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
