// Run by src/testing/package-install.test.ts in a fresh CommonJS project where the packed
// tfjs-sam is installed with TensorFlow.js as a user would (TFJS=union: the @tensorflow/tfjs
// package; TFJS=core: tfjs-core + tfjs-layers + a backend).
'use strict';
const assert = require('node:assert/strict');

const union = process.env.TFJS === 'union';
const tf = union ? require('@tensorflow/tfjs') : require('@tensorflow/tfjs-core');
const tfl = union ? tf : require('@tensorflow/tfjs-layers');
if (!union) require('@tensorflow/tfjs-backend-cpu');

const tfjsSam = require('tfjs-sam');
const entries = ['data', 'diagnostics', 'models', 'trainer', 'parallel', 'toolkit', 'node'];
for (const entry of entries) {
  const module = require(`tfjs-sam/${entry}`);
  assert.ok(Object.keys(module).length > 0, `tfjs-sam/${entry} exports something`);
}

async function main() {
  await tf.setBackend('cpu');
  // One TensorFlow.js: the library's optimizer is an optimizer of the program's tfjs, and the
  // class tf.serialization knows as 'SAM' is the one require('tfjs-sam') returns.
  const optimizer = tfjsSam.sam(tf.train.sgd(0.1), { rho: 0.05 });
  assert.ok(optimizer instanceof tf.Optimizer, 'sam() is a tf.Optimizer of this tfjs');
  const registered = tf.serialization.SerializationMap.getMap().classNameMap['SAM'];
  assert.equal(registered && registered[0], tfjsSam.SAM, 'SAM is registered once, as this class');

  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 8, inputShape: [4], activation: 'relu' }),
      tfl.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.randomNormal([32, 4], 0, 1, 'float32', 1);
  const ys = tf.oneHot(
    tf.tensor1d(
      [...Array(32).keys()].map((i) => i % 3),
      'int32',
    ),
    3,
  );
  const history = await model.fit(xs, ys, { epochs: 2, batchSize: 8, verbose: 0 });
  assert.equal(history.history.loss.length, 2);

  let saved;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved));
  assert.ok(loaded.optimizer instanceof tfjsSam.SAM, 'the loaded model trains with SAM again');
  console.log(`ok: require, ${union ? '@tensorflow/tfjs' : 'tfjs-core + tfjs-layers'}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
