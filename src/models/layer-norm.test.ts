import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { relativeError } from '../testing/wasm-parity.js';
import { layerNorm } from '../math/layer-norm.js';
import { LayerNorm } from './layer-norm.js';

const EPSILON = 1e-3;

/** tfjs-layers' LayerNormalization on x with the given scale and offset. */
function stockLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const layer = tfl.layers.layerNormalization({ epsilon: EPSILON });
  layer.build(x.shape);
  layer.setWeights([gamma, beta]);
  const out = layer.apply(x) as tf.Tensor;
  for (const weight of layer.weights) weight.dispose();
  return out;
}

function close(actual: tf.Tensor, expected: tf.Tensor, label: string, tolerance = 1e-5) {
  assert.deepEqual(actual.shape, expected.shape, `${label}: shape`);
  const err = relativeError(actual.dataSync() as Float32Array, expected.dataSync() as Float32Array);
  assert.ok(err <= tolerance, `${label}: relative error ${err}`);
}

for (const backend of TEST_BACKENDS) {
  describe(`layerNorm [${backend}]`, () => {
    before(() => useBackend(backend));

    for (const shape of [
      [6, 5],
      [3, 4, 8],
    ]) {
      test(`values equal tfjs-layers' LayerNormalization, gradients the composed formula's, input [${shape}]`, () => {
        const size = shape[shape.length - 1]!;
        const x = tf.randomNormal(shape, 0.5, 2, 'float32', 1);
        const gamma = tf.randomUniform([size], 0.5, 1.5, 'float32', 2);
        const beta = tf.randomUniform([size], -0.3, 0.3, 'float32', 3);
        // Weights per output element, so that every gradient term matters.
        const weights = tf.randomNormal(shape, 0, 1, 'float32', 4);
        // The textbook formula with primitive ops, differentiated automatically.
        const composed = (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const centered = tf.sub(v, tf.mean(v, -1, true));
          const variance = tf.mean(tf.square(centered), -1, true);
          return tf.add(tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, EPSILON))), g), b);
        };
        const ours = (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(v, g, b, EPSILON);
        const loss = (f: typeof ours) => (v: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(f(v, g, b), weights));
        tf.tidy(() => {
          close(ours(x, gamma, beta), stockLayerNorm(x, gamma, beta), 'values');
          const got = tf.grads(loss(ours))([x, gamma, beta]);
          const expected = tf.grads(loss(composed))([x, gamma, beta]);
          ['dx', 'dgamma', 'dbeta'].forEach((name, i) => close(got[i]!, expected[i]!, name, 2e-5));
        });
        tf.dispose([x, gamma, beta, weights]);
      });
    }

    test('a forward and backward pass leaves no tensor behind', () => {
      const x = tf.randomNormal([4, 6], 0, 1, 'float32', 5);
      const gamma = tf.variable(tf.ones([6]));
      const beta = tf.variable(tf.zeros([6]));
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tf.square(layerNorm(x, gamma, beta, EPSILON))) as tf.Scalar,
          [gamma, beta],
        );
        tf.dispose([value, ...Object.values(grads)]);
        tf.dispose(
          tf.tidy(() =>
            tf.grads((v: tf.Tensor) => tf.sum(layerNorm(v, gamma, beta, EPSILON)))([x]),
          ),
        );
      }
      assert.equal(tf.memory().numTensors, before);
      tf.dispose([x, gamma, beta]);
    });
  });
}

describe('LayerNorm layer', () => {
  before(() => useBackend('cpu'));

  test('gamma and beta weights of the last axis; config and saved model round trip', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ units: 5, inputShape: [3] }),
        new LayerNorm({
          epsilon: 1e-5,
          gammaInitializer: tfl.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: 6 }),
        }),
      ],
    });
    const layer = model.layers[1] as LayerNorm;
    assert.deepEqual(
      layer.getWeights().map((w) => w.shape),
      [[5], [5]],
    );
    assert.match(layer.weights[0]!.name, /gamma$/);
    assert.match(layer.weights[1]!.name, /beta$/);
    assert.equal(layer.getConfig()['epsilon'], 1e-5);
    const x = tf.randomNormal([4, 3], 0, 1, 'float32', 7);
    const expected = model.predict(x) as tf.Tensor;
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(
        async (a) => (
          (artifacts = a),
          { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }
        ),
      ),
    );
    const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts!));
    assert.equal(loaded.layers[1]!.getClassName(), 'LayerNorm');
    assert.deepEqual(
      Array.from((loaded.predict(x) as tf.Tensor).dataSync()),
      Array.from(expected.dataSync()),
    );
    tf.dispose([x, expected]);
    model.dispose();
    loaded.dispose();
  });

  test('bad epsilon, a gamma of the wrong size and an unsized last axis are named', () => {
    assert.throws(() => new LayerNorm({ epsilon: 0 }), /epsilon is 0; expected a number > 0/);
    assert.throws(
      () => layerNorm(tf.zeros([2, 3]), tf.ones([4]), tf.zeros([3]), 1e-3),
      /gamma and beta must have the size of x's last axis \(3\); got x \[2, 3\], gamma \[4\]/,
    );
    assert.throws(
      () => new LayerNorm().build([2, null]),
      /the last axis of the input must have a fixed size/,
    );
  });
});
