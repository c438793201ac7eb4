/**
 * npm run example [-- --backend wasm|cpu --epochs 30 --seed 1]
 *
 * Trains the same MLP with SGD-momentum and with SAM on a synthetic 10-class problem where 40%
 * of the training labels are flipped (the test labels are clean) and prints both results. In this
 * memorization regime plain SGD fits the noise and its test accuracy suffers; SAM resists.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { selectBackend, type BackendChoice } from '../src/backend/select.js';
import { sam } from '../src/index.js';
import { createRandom, permutation } from '../src/util/random.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    epochs: { type: 'string', default: '30' },
    seed: { type: 'string', default: '1' },
    rho: { type: 'string', default: '0.5' },
  },
});
const epochs = Number(values.epochs);
const seed = Number(values.seed);
const rho = Number(values.rho);
for (const [name, value] of [
  ['epochs', epochs],
  ['seed', seed],
  ['rho', rho],
] as const) {
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`--${name} is '${values[name]}'; expected a number >= 0.`);
}
await selectBackend({ prefer: values.backend as BackendChoice });

const FEATURES = 20;
const CLASSES = 10;

/** A random linear-tanh teacher labels Gaussian inputs; `noise` of the training labels are flipped. */
function makeData(
  count: number,
  dataSeed: number,
  noise: number,
): { x: tf.Tensor2D; y: tf.Tensor2D } {
  return tf.tidy(() => {
    const teacher = tf.randomNormal([FEATURES, CLASSES], 0, 1, 'float32', 12345);
    const x = tf.randomNormal([count, FEATURES], 0, 1, 'float32', dataSeed) as tf.Tensor2D;
    const clean = tf.argMax(tf.tanh(tf.matMul(x, teacher)), 1);
    const flip = tf.less(tf.randomUniform([count], 0, 1, 'float32', dataSeed + 1), noise);
    const shift = tf.cast(
      tf.floor(tf.randomUniform([count], 1, CLASSES, 'float32', dataSeed + 2)),
      'int32',
    );
    const noisy = tf.where(flip, tf.mod(tf.add(clean, shift), CLASSES), clean);
    return { x, y: tf.cast(tf.oneHot(tf.cast(noisy, 'int32'), CLASSES), 'float32') as tf.Tensor2D };
  });
}

function buildModel(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 256,
        inputShape: [FEATURES],
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed }),
      }),
      tfl.layers.dense({
        units: 256,
        activation: 'relu',
        kernelInitializer: tfl.initializers.heNormal({ seed: seed + 1 }),
      }),
      tfl.layers.dense({
        units: CLASSES,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }),
      }),
    ],
  });
}

const TRAIN_SAMPLES = 1000;
const train = makeData(TRAIN_SAMPLES, seed * 100, 0.4);
const test = makeData(4000, seed * 100 + 50, 0);
console.log(
  `tfjs-sam example: SGD vs SAM, ${tf.getBackend()} backend, MLP ${FEATURES}-256-256-${CLASSES}, 1000 training samples with 40% flipped labels, 4000 clean test samples, ${epochs} epochs, seed ${seed}`,
);
const rows: Array<Record<string, string>> = [];
for (const [label, makeOptimizer] of [
  ['SGD (momentum 0.9)', () => tf.train.momentum(0.05, 0.9)],
  [`SAM (rho ${rho})`, () => sam(tf.train.momentum(0.05, 0.9), { rho })],
] as const) {
  const model = buildModel();
  const optimizer = makeOptimizer();
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const started = performance.now();
  // fit's own shuffle uses Math.random; a seeded permutation per epoch makes runs repeatable.
  const order = createRandom(seed);
  let finalTrainAccuracy = NaN;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const indices = tf.tensor1d(permutation(TRAIN_SAMPLES, order), 'int32');
    const [xs, ys] = [tf.gather(train.x, indices), tf.gather(train.y, indices)];
    const history = await model.fit(xs, ys, {
      epochs: 1,
      batchSize: 50,
      verbose: 0,
      shuffle: false,
    });
    finalTrainAccuracy = history.history['acc']?.at(-1) as number;
    tf.dispose([indices, xs, ys]);
  }
  const seconds = (performance.now() - started) / 1000;
  const [testLoss, testAccuracy] = (
    model.evaluate(test.x, test.y, { batchSize: 500 }) as tf.Scalar[]
  ).map((t) => {
    const v = t.dataSync()[0] as number;
    t.dispose();
    return v;
  });
  rows.push({
    optimizer: label,
    'train acc (noisy labels)': (finalTrainAccuracy * 100).toFixed(1) + '%',
    'test acc (clean)': ((testAccuracy as number) * 100).toFixed(1) + '%',
    'test loss': (testLoss as number).toFixed(3),
    seconds: seconds.toFixed(1),
  });
  optimizer.dispose();
  model.dispose();
}
console.table(rows);
tf.dispose([train.x, train.y, test.x, test.y]);
