import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../testing/backends.js';
import { buildModel, MODEL_NAMES, type ModelName } from './index.js';
import { assertOptionError } from '../testing/models.js';

before(() => useBackend('cpu'));

test('the registry holds the six models', () => {
  assert.deepEqual([...MODEL_NAMES].sort(), [
    'cnn',
    'lstm',
    'mlp',
    'resnet20',
    'transformer',
    'wrn',
  ]);
});

test('buildModel dispatches by name and passes the options on', () => {
  const built: Record<ModelName, number> = {
    mlp: buildModel('mlp', { inputShape: [28, 28, 1], hidden: [4] }).countParams(),
    cnn: buildModel('cnn', { inputShape: [10, 10, 1], classes: 2 }).countParams(),
    resnet20: buildModel('resnet20', { inputShape: [8, 8, 3] }).countParams(),
    wrn: buildModel('wrn', { depth: 10, widenFactor: 1, inputShape: [8, 8, 3] }).countParams(),
    lstm: buildModel('lstm', { vocabSize: 10, seqLength: 3, embedDim: 2, units: 2 }).countParams(),
    transformer: buildModel('transformer', {
      vocabSize: 10,
      seqLength: 3,
      dModel: 4,
      heads: 2,
      blocks: 1,
      ffDim: 4,
    }).countParams(),
  };
  assert.equal(built.mlp, 784 * 4 + 4 + 4 * 10 + 10);
  assert.equal(
    built.cnn,
    3 * 3 * 32 + 32 + (3 * 3 * 32 * 64 + 64) + (64 * 128 + 128) + (128 * 2 + 2),
  );
  assert.equal(built.resnet20, 274_042);
  assert.equal(built.lstm, 10 * 2 + 4 * (2 * 2 + 2 * 2 + 2) + (2 * 2 + 2));
  assert.equal(
    built.transformer,
    10 * 4 + 3 * 4 + 4 * (4 * 4 + 4) + (4 * 4 + 4) * 2 + 2 * 2 * 4 + (4 * 2 + 2),
  );
  assert.ok(built.wrn > 0);
});

test('buildModel rejects unknown names, listing the valid ones', () => {
  assertOptionError(
    () => buildModel('resnet' as ModelName),
    /unknown model 'resnet'/,
    /mlp, cnn, resnet20, wrn, lstm, transformer/,
  );
});

test('buildModel rejects bad options, naming the model, the option and the value', () => {
  assertOptionError(
    () => buildModel('cnn', { classes: 1 }),
    /smallCnn: option 'classes' is 1; expected an integer ≥ 2/,
  );
  assertOptionError(
    () => buildModel('mlp', { inputShape: [784], clases: 10 } as never),
    /unknown option 'clases'/,
    /classes/,
  );
  assertOptionError(() => buildModel('wrn', { depth: 17 }), /'depth' is 17/, /use 16 or 22/);
  assertOptionError(() => buildModel('transformer', { heads: 0 }), /'heads' is 0/);
  assertOptionError(() => buildModel('mlp', null as never), /must be an object/);
});
