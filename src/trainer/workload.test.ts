import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NextTokenDataset, TokenDataset } from '../data/text/types.js';
import type { ImageDataset } from '../data/types.js';
import { useBackend } from '../testing/backends.js';
import { dataKind, datasetKind, modelForData, TRAINING_DEFAULTS } from './workload.js';

const images: ImageDataset = {
  images: new Uint8Array(4 * 4),
  labels: Uint8Array.from([0, 1, 2, 0]),
  shape: [2, 2, 1],
  count: 4,
  classes: 3,
};
const rows: TokenDataset = {
  kind: 'tokens',
  tokens: new Int32Array(8),
  seqLength: 4,
  count: 2,
  labels: Int32Array.from([0, 1]),
  classes: 2,
  vocabSize: 30,
};
const windows: NextTokenDataset = {
  kind: 'next-token',
  tokens: new Int32Array(10),
  seqLength: 4,
  count: 2,
  vocabSize: 40,
};

test('the kind of data decides the defaults: AdamW for text, momentum for images', () => {
  assert.equal(dataKind(images), 'images');
  assert.equal(dataKind(rows), 'text-classification');
  assert.equal(dataKind(windows), 'language-model');
  assert.equal(datasetKind('fashion-mnist'), 'images');
  assert.equal(datasetKind('spam-assassin'), 'text-classification');
  assert.equal(datasetKind('sotu'), 'language-model');
  assert.equal(TRAINING_DEFAULTS['language-model'].model, 'lm');
  assert.equal(TRAINING_DEFAULTS['text-classification'].base, 'adamw');
  assert.equal(TRAINING_DEFAULTS.images.base, 'momentum');
});

test('models shaped for the data; a model that cannot read them is refused with the ones that can', async () => {
  await useBackend('cpu');
  const text = modelForData('transformer', rows, 1);
  const model = text.build();
  assert.deepEqual(model.inputs[0]!.shape, [null, 4]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 2]);
  assert.equal(text.spec?.name, 'transformer');
  model.dispose();
  const lm = modelForData('lm', windows, 1);
  const built = lm.build();
  assert.deepEqual(built.outputs[0]!.shape, [null, 4, 40]);
  assert.equal(lm.spec, null);
  built.dispose();
  assert.throws(
    () => modelForData('cnn', rows, 1),
    /'cnn' reads images, but the data are texts to classify; use --model transformer or lstm/,
  );
  assert.throws(
    () => modelForData('transformer', windows, 1),
    /is a classifier, .*language model .*use --model lm/,
  );
  assert.throws(() => modelForData('lm', images, 1), /cannot read images; use one of mlp/);
});
