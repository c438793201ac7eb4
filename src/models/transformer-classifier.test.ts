import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../testing/backends.js';
import { transformerClassifier } from './transformer-classifier.js';
import { MultiHeadSelfAttention } from './transformer-layers.js';
import {
  assertOptionError,
  assertRoundTrip,
  assertSeedDeterminism,
  cyclicLabels,
  fitOneStep,
} from '../testing/models.js';

before(() => useBackend('cpu'));

test('transformerClassifier defaults: 1,561,602 parameters', () => {
  const model = transformerClassifier();
  assert.deepEqual(model.inputs[0]!.shape, [null, 128]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 2]);
  const d = 128;
  const embeddings = 10000 * d + 128 * d; // tokens + positions
  const attention = 4 * (d * d + d); // Q, K, V, output projections
  const feedForward = d * 256 + 256 + 256 * d + d;
  const layerNorms = 2 * 2 * d;
  const head = d * 2 + 2;
  const expected = embeddings + 2 * (attention + feedForward + layerNorms) + head;
  assert.equal(expected, 1_561_602);
  assert.equal(model.countParams(), 1_561_602);
  model.dispose();
});

test('MultiHeadSelfAttention matches a per-head reference computation', () => {
  const [batch, length, dModel, heads] = [2, 5, 8, 2];
  const depth = dModel / heads;
  const layer = new MultiHeadSelfAttention({ heads, seed: 3 });
  const x = tf.randomNormal([batch, length, dModel], 0, 1, 'float32', 4);
  const builtOutput = layer.apply(x) as tf.Tensor; // builds the weights
  // Random biases so that their placement is checked too.
  const weights = layer
    .getWeights()
    .map((w, i) => tf.randomNormal(w.shape, 0, 0.5, 'float32', 10 + i));
  layer.setWeights(weights);
  const output = layer.apply(x) as tf.Tensor;
  assert.deepEqual(builtOutput.shape, [batch, length, dModel]);
  const [wq, bq, wk, bk, wv, bv, wo, bo] = weights as [
    tf.Tensor2D,
    tf.Tensor1D,
    tf.Tensor2D,
    tf.Tensor1D,
    tf.Tensor2D,
    tf.Tensor1D,
    tf.Tensor2D,
    tf.Tensor1D,
  ];
  const expected = tf.stack(
    tf.unstack(x).map((sequence) => {
      const rows = sequence as tf.Tensor2D;
      const q = tf.add(tf.matMul(rows, wq), bq) as tf.Tensor2D;
      const k = tf.add(tf.matMul(rows, wk), bk) as tf.Tensor2D;
      const v = tf.add(tf.matMul(rows, wv), bv) as tf.Tensor2D;
      const perHead = Array.from({ length: heads }, (_, h) => {
        const columns = (t: tf.Tensor2D) => tf.slice(t, [0, h * depth], [length, depth]);
        const scores = tf.div(tf.matMul(columns(q), columns(k), false, true), Math.sqrt(depth));
        return tf.matMul(tf.softmax(scores), columns(v));
      });
      return tf.add(tf.matMul(tf.concat(perHead, 1), wo), bo);
    }),
  );
  const difference = tf.max(tf.abs(tf.sub(output, expected))).dataSync()[0]!;
  assert.ok(difference < 1e-5, `max difference ${difference}`);
});

test('MultiHeadSelfAttention rejects a width not divisible by heads', () => {
  const layer = new MultiHeadSelfAttention({ heads: 3 });
  assert.throws(() => layer.apply(tfl.input({ shape: [4, 8] })), /8 is not divisible by heads = 3/);
});

test('transformerClassifier seeded builds are identical, different seeds differ', () => {
  assertSeedDeterminism((seed) =>
    transformerClassifier({
      vocabSize: 20,
      seqLength: 4,
      dModel: 8,
      heads: 2,
      blocks: 1,
      ffDim: 8,
      seed,
    }),
  );
});

test('transformerClassifier trains one step and round-trips through save/load', async () => {
  const model = transformerClassifier({
    vocabSize: 30,
    seqLength: 6,
    dModel: 16,
    heads: 4,
    blocks: 2,
    ffDim: 32,
    classes: 3,
    seed: 1,
  });
  const tokens = tf.randomUniform([4, 6], 0, 30, 'int32', 2);
  const loss = await fitOneStep(model, tokens, cyclicLabels(4, 3));
  assert.ok(Number.isFinite(loss));
  await assertRoundTrip(model, tokens);
  model.dispose();
});

test('transformerClassifier rejects bad options', () => {
  assertOptionError(
    () => transformerClassifier({ dModel: 130, heads: 4 }),
    /'dModel' is 130/,
    /not divisible by heads = 4/,
    /e\.g\. 128|e\.g\. 132/,
  );
  assertOptionError(() => transformerClassifier({ blocks: 0 }), /'blocks' is 0/, /≥ 1/);
  assertOptionError(() => transformerClassifier({ seqLength: 12.5 }), /'seqLength' is 12.5/);
});
