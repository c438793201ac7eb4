import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerWasmTrainingKernels } from '../backend/wasm-kernels/index.js';
import { sparseSoftmaxCrossEntropy } from '../math/cross-entropy.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertOptionError, assertRoundTrip, assertSeedDeterminism } from '../testing/models.js';
import { buildLanguageModel, buildModel } from './index.js';
import { languageModel } from './language-model.js';
import { lstmClassifier } from './lstm-classifier.js';
import { transformerClassifier } from './transformer-classifier.js';

const ids = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');

/** Sets row 0 (the padding id) of the first embedding table of `model` to random values. */
function scramblePaddingRow(model: tfl.LayersModel): void {
  const layer = model.layers.find((l) => l.getWeights().some((w) => w.rank === 2))!;
  const [table, ...rest] = layer.getWeights();
  const values = (table as tf.Tensor).arraySync() as number[][];
  values[0] = values[0]!.map((_, j) => Math.sin(j + 1) * 3);
  layer.setWeights([tf.tensor2d(values), ...rest]);
}

function outputsChange(build: () => tfl.LayersModel, x: tf.Tensor): number {
  const model = build();
  const before = model.predict(x) as tf.Tensor;
  scramblePaddingRow(model);
  const after = model.predict(x) as tf.Tensor;
  const difference = tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]!;
  model.dispose();
  return difference;
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: with maskPadding, padding changes neither attention nor pooling, nor the LSTM state`, async () => {
    await useBackend(backend);
    const x = ids([
      [5, 3, 9, 0, 0, 0],
      [7, 0, 0, 0, 0, 0],
    ]);
    const small = { vocabSize: 12, seqLength: 6, classes: 3, seed: 2 };
    const transformer = (maskPadding: boolean) => () =>
      transformerClassifier({ ...small, dModel: 8, heads: 2, blocks: 2, ffDim: 8, maskPadding });
    const lstm = (maskPadding: boolean) => () =>
      lstmClassifier({ ...small, embedDim: 4, units: 5, maskPadding });
    assert.ok(outputsChange(transformer(true), x) < 1e-6, 'masked transformer ignores pads');
    assert.ok(outputsChange(transformer(false), x) > 1e-4, 'unmasked transformer reads pads');
    assert.ok(outputsChange(lstm(true), x) < 1e-6, 'masked LSTM ignores pads');
    assert.ok(outputsChange(lstm(false), x) > 1e-4, 'unmasked LSTM reads pads');
    x.dispose();
  });

  test(`${backend}: lm is causal — position t depends on tokens up to t only`, async () => {
    await useBackend(backend);
    const model = languageModel({
      vocabSize: 20,
      seqLength: 6,
      dModel: 8,
      heads: 2,
      blocks: 2,
      seed: 1,
    });
    const a = model.predict(ids([[1, 4, 6, 8, 3, 2]])) as tf.Tensor;
    const b = model.predict(ids([[1, 4, 6, 11, 3, 2]])) as tf.Tensor;
    const perPosition = tf.max(tf.abs(tf.sub(a, b)), [0, 2]).arraySync() as number[];
    assert.ok(
      perPosition.slice(0, 3).every((d) => d === 0),
      `${perPosition}`,
    );
    assert.ok(
      perPosition.slice(3).every((d) => d > 1e-6),
      `${perPosition}`,
    );
    model.dispose();
  });
}

test('lm parameters: tied output shares the token table; untied adds a dense layer', async () => {
  await useBackend('cpu');
  const [V, T, d, ff] = [50, 7, 8, 32];
  const block = 2 * 2 * d + 4 * (d * d + d) + (d * ff + ff) + (ff * d + d);
  const tied = V * d + T * d + 2 * block + 2 * d;
  const model = buildLanguageModel('lm', {
    vocabSize: V,
    seqLength: T,
    dModel: d,
    heads: 2,
    blocks: 2,
  });
  assert.equal(model.countParams(), tied);
  assert.deepEqual(model.outputs[0]!.shape, [null, T, V]);
  const untied = languageModel({
    vocabSize: V,
    seqLength: T,
    dModel: d,
    heads: 2,
    blocks: 2,
    tiedOutput: false,
  });
  assert.equal(untied.countParams(), tied + d * V + V);
  model.dispose();
  untied.dispose();
  assertOptionError(
    () => languageModel({ dModel: 10, heads: 4 }),
    /'dModel' is 10/,
    /divisible by heads = 4/,
  );
  assertOptionError(
    () => languageModel({ tiedOutput: 1 as unknown as boolean }),
    /'tiedOutput' is 1; expected true or false/,
  );
  assertOptionError(
    () => buildModel('lm'),
    /unknown model 'lm'/,
    /language model: use buildLanguageModel/,
  );
  assertOptionError(
    () => buildLanguageModel('gpt'),
    /unknown language model 'gpt'; expected one of lm/,
  );
});

test('lm and the masked classifiers: seeded, save and load exactly', async () => {
  await useBackend('cpu');
  const options = { vocabSize: 16, seqLength: 5, dModel: 8, heads: 2, blocks: 1, seed: 3 };
  assertSeedDeterminism((seed) => languageModel({ ...options, seed }));
  const x = ids([[1, 2, 3, 0, 0]]);
  for (const model of [
    languageModel(options),
    transformerClassifier({ ...options, ffDim: 8, maskPadding: true }),
    lstmClassifier({ vocabSize: 16, seqLength: 5, embedDim: 3, units: 4, maskPadding: true }),
  ]) {
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
    await assertRoundTrip(model, x);
    model.dispose();
  }
});

test('wasm: the lm trains on the softmax cross-entropy of its logits, the loss falls, no tensor leaks', async () => {
  await useBackend('wasm');
  const undo = registerWasmTrainingKernels();
  try {
    const model = languageModel({
      vocabSize: 12,
      seqLength: 8,
      dModel: 16,
      heads: 2,
      blocks: 1,
      seed: 4,
    });
    const optimizer = tf.train.adam(0.01);
    // A repeating sequence: each token determines the next.
    const stream = Array.from({ length: 9 * 4 }, (_, i) => 3 + (i % 5));
    const rows = Array.from({ length: 4 }, (_, r) => stream.slice(r * 9, r * 9 + 9));
    const xs = ids(rows.map((r) => r.slice(0, 8)));
    const ys = tf.tensor3d(
      rows.map((r) => r.slice(1).map((v) => [v])),
      [4, 8, 1],
    );
    const losses: number[] = [];
    let tensors = 0;
    for (let step = 0; step < 40; step++) {
      const loss = optimizer.minimize(() => {
        const logits = tf.reshape(model.apply(xs) as tf.Tensor, [32, 12]) as tf.Tensor2D;
        return tf.mean(
          sparseSoftmaxCrossEntropy(logits, tf.reshape(ys, [32]) as tf.Tensor1D),
        ) as tf.Scalar;
      }, true)!;
      losses.push(loss.dataSync()[0]!);
      loss.dispose();
      if (step === 4) tensors = tf.memory().numTensors;
    }
    assert.equal(tf.memory().numTensors, tensors, 'tensor count flat over 35 steps');
    assert.ok(losses.at(-1)! < 0.3 * losses[0]!, `${losses[0]} → ${losses.at(-1)}`);
    model.dispose();
    optimizer.dispose();
    tf.dispose([xs, ys]);
  } finally {
    undo();
  }
});
