import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../testing/backends.js';
import { lstmClassifier } from './lstm-classifier.js';
import {
  assertOptionError,
  assertSeedDeterminism,
  cyclicLabels,
  fitOneStep,
} from '../testing/models.js';

before(() => useBackend('cpu'));

test('lstmClassifier defaults: 673,154 parameters', () => {
  const model = lstmClassifier();
  assert.deepEqual(model.inputs[0]!.shape, [null, 128]);
  assert.deepEqual(model.outputs[0]!.shape, [null, 2]);
  const embedding = 10000 * 64;
  const lstm = 4 * (64 * 64 + 64 * 64 + 64); // input kernel, recurrent kernel, bias per gate
  const head = 64 * 2 + 2;
  assert.equal(embedding + lstm + head, 673_154);
  assert.equal(model.countParams(), 673_154);
  model.dispose();
});

test('lstmClassifier seeded builds are identical, different seeds differ', () => {
  assertSeedDeterminism((seed) =>
    lstmClassifier({ vocabSize: 20, seqLength: 4, embedDim: 4, units: 4, seed }),
  );
});

test('lstmClassifier trains one step with a finite loss', async () => {
  const model = lstmClassifier({
    vocabSize: 30,
    seqLength: 6,
    embedDim: 8,
    units: 8,
    classes: 3,
    seed: 1,
  });
  const tokens = tf.randomUniform([4, 6], 0, 30, 'int32', 2);
  const loss = await fitOneStep(model, tokens, cyclicLabels(4, 3));
  assert.ok(Number.isFinite(loss));
  model.dispose();
});

test('lstmClassifier rejects bad options', () => {
  assertOptionError(() => lstmClassifier({ units: -4 }), /'units' is -4/, /≥ 1/);
  assertOptionError(() => lstmClassifier({ vocabSize: 1 }), /'vocabSize' is 1/, /≥ 2/);
  assertOptionError(
    () => lstmClassifier({ hidden: 4 } as never),
    /unknown option 'hidden'/,
    /units/,
  );
});
