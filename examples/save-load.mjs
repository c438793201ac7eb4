// Saving and loading with tfjs-sam/node, no tfjs-node: model.save('file://…') with the
// optimizer, tf.loadLayersModel('file://…/model.json'), and training continues exactly where it
// stopped — the same weights as a run that never stopped.
//
//   node examples/save-load.mjs      (from a clone: npm run build first)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { sam } from 'tfjs-sam';
import 'tfjs-sam/node';

await tf.setBackend('wasm');
const xs = tf.randomNormal([96, 6], 0, 1, 'float32', 5);
const ys = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 96 }, (_, i) => i % 3),
    'int32',
  ),
  3,
);
const build = () => {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 12,
        inputShape: [6],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  model.compile({ optimizer: sam(tf.train.momentum(0.05, 0.9)), loss: 'categoricalCrossentropy' });
  return model;
};
const fit = (model, epochs) =>
  model.fit(xs, ys, { epochs, batchSize: 16, shuffle: false, verbose: 0 });

const uninterrupted = build();
await fit(uninterrupted, 6);

const first = build();
await fit(first, 3);
const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-save-load-'));
await first.save(`file://${dir}`, { includeOptimizer: true });
const resumed = await tfl.loadLayersModel(`file://${join(dir, 'model.json')}`);
await fit(resumed, 3);

const values = (model) => model.getWeights().map((w) => Array.from(w.dataSync()));
const same = JSON.stringify(values(uninterrupted)) === JSON.stringify(values(resumed));
console.log(
  `saved to ${dir}; resumed training ${same ? 'matches' : 'DIFFERS from'} the uninterrupted run bit for bit`,
);
if (!same) process.exit(1);
