// Run by src/testing/package-install.test.ts in a fresh project where the packed tfjs-sam is
// installed (TFJS=union: the @tensorflow/tfjs package; TFJS=core: tfjs-core + tfjs-layers + a
// backend). `import` and `require` of tfjs-sam in one process give the same classes, registered
// with tf.serialization once.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as tfjsSam from 'tfjs-sam';

const require = createRequire(import.meta.url);
const union = process.env.TFJS === 'union';
const tf = union ? await import('@tensorflow/tfjs') : await import('@tensorflow/tfjs-core');
const tfl = union ? tf : await import('@tensorflow/tfjs-layers');
if (!union) await import('@tensorflow/tfjs-backend-cpu');

const entries = [
  '',
  '/data',
  '/diagnostics',
  '/models',
  '/trainer',
  '/parallel',
  '/toolkit',
  '/node',
];
for (const entry of entries) {
  const imported = await import(`tfjs-sam${entry}`);
  const required = require(`tfjs-sam${entry}`);
  const names = Object.keys(imported).sort();
  assert.deepEqual(names, Object.keys(required).sort(), `tfjs-sam${entry}: the same names`);
  for (const name of names) {
    assert.equal(imported[name], required[name], `tfjs-sam${entry}: ${name} is one object`);
  }
}
assert.equal(tfjsSam.SAM, require('tfjs-sam').SAM);

await tf.setBackend('cpu');
const registered = tf.serialization.SerializationMap.getMap().classNameMap['SAM'];
assert.equal(registered?.[0], tfjsSam.SAM, 'SAM is registered once, as the class both return');

const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ units: 8, inputShape: [4], activation: 'relu' }),
    tfl.layers.dense({ units: 3, activation: 'softmax' }),
  ],
});
model.compile({
  optimizer: tfjsSam.sam(tf.train.momentum(0.1, 0.9)),
  loss: 'categoricalCrossentropy',
});
const xs = tf.randomNormal([32, 4], 0, 1, 'float32', 1);
const ys = tf.oneHot(
  tf.tensor1d(
    [...Array(32).keys()].map((i) => i % 3),
    'int32',
  ),
  3,
);
await model.fit(xs, ys, { epochs: 2, batchSize: 8, verbose: 0 });
let saved;
await model.save(
  tf.io.withSaveHandler(async (artifacts) => {
    saved = artifacts;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }),
  { includeOptimizer: true },
);
const loaded = await tfl.loadLayersModel(tf.io.fromMemory(saved));
assert.ok(loaded.optimizer instanceof require('tfjs-sam').SAM, 'loaded as the required class');
console.log(`ok: import and require, ${union ? '@tensorflow/tfjs' : 'tfjs-core + tfjs-layers'}`);
