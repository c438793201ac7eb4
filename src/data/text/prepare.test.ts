import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageDataDir } from './corpora.js';
import { encodeWindows, prepareTextData, textTask } from './prepare.js';
import { fitTokenizer } from './tokenizers.js';
import type { NextTokenDataset, TokenDataset } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-prepare-'));
const words = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma', 'kappa', 'theta'];
const rows = Array.from({ length: 100 }, (_, i) => {
  const label = i % 4 === 0 ? 'spam' : 'ham';
  const text = Array.from({ length: 3 + (i % 7) }, (_, k) => words[(i + k * 3) % 8]).join(' ');
  return `${label === 'spam' ? 'win ' : ''}${text},${label}`;
});
const csv = join(dir, 'texts.csv');
writeFileSync(csv, `text,label\n${rows.join('\n')}\n`);

test('classification: seeded stratified splits, truncation and padding, noise on training labels only', async () => {
  const data = await prepareTextData({
    dataset: `text:${csv}`,
    seed: 1,
    seqLength: 5,
    vocabSize: 10,
    validation: 0.25,
    labelNoise: 0.5,
  });
  const train = data.train as TokenDataset;
  const test = data.test as TokenDataset;
  assert.equal(data.task, 'classification');
  assert.equal(test.count, 20);
  assert.equal(data.validation?.count, 20);
  assert.equal(train.count, 60);
  assert.equal([...test.labels].filter((l) => l === 1).length, 5, 'test keeps the 1:3 class ratio');
  assert.equal(data.flippedLabels, 30);
  assert.equal(train.tokens.length, 60 * 5);
  assert.equal(train.vocabSize, 10);
  const again = await prepareTextData({
    dataset: `text:${csv}`,
    seed: 1,
    seqLength: 5,
    vocabSize: 10,
    validation: 0.25,
    labelNoise: 0.5,
  });
  assert.deepEqual(again.train, data.train);
  const other = await prepareTextData({
    dataset: `text:${csv}`,
    seed: 2,
    seqLength: 5,
    vocabSize: 10,
  });
  assert.notDeepEqual((other.test as TokenDataset).tokens, test.tokens);
  // A three-word text in a row of 5: two pad ids at the end.
  const short = await prepareTextData({
    dataset: `text:${csv}`,
    seed: 1,
    seqLength: 20,
    vocabSize: 10,
  });
  const shortTrain = short.train as TokenDataset;
  const lengths = Array.from({ length: shortTrain.count }, (_, r) =>
    shortTrain.tokens.subarray(r * 20, r * 20 + 20).indexOf(0),
  );
  assert.ok(lengths.every((l) => l >= 3 && l <= 10));
});

test('classification: class-balanced training subsets', async () => {
  const data = await prepareTextData({
    dataset: `text:${csv}`,
    seed: 4,
    seqLength: 4,
    vocabSize: 10,
    trainSubset: 20,
  });
  const labels = [...(data.train as TokenDataset).labels];
  assert.deepEqual(
    [labels.filter((l) => l === 0).length, labels.filter((l) => l === 1).length],
    [10, 10],
  );
  await assert.rejects(
    prepareTextData({ dataset: `text:${csv}`, seed: 4, trainSubset: 60 }),
    /smallest class has 20 training texts; use --train-subset 40 or less/,
  );
});

test('bad settings: --seq-len 0, label noise for a language model, an empty path', async () => {
  await assert.rejects(
    prepareTextData({ dataset: `text:${csv}`, seed: 1, seqLength: 0 }),
    /--seq-len is 0; expected an integer >= 1/,
  );
  const folder = join(dir, 'docs');
  mkdirSync(folder);
  for (let d = 0; d < 10; d++)
    writeFileSync(join(folder, `${d}.txt`), `document ${d} ` + words.join(' ').repeat(3));
  await assert.rejects(
    prepareTextData({ dataset: `text:${folder}`, seed: 1, labelNoise: 0.2 }),
    /--label-noise is 0.2, .*no labels to flip/,
  );
  assert.throws(() => textTask('text:'), /needs a path/);
});

test('language model: split by document, windows of seqLength + 1, tokenizer fitted on training documents only', async () => {
  const folder = join(dir, 'lm');
  mkdirSync(folder);
  for (let d = 0; d < 10; d++)
    writeFileSync(
      join(folder, `doc${d}.txt`),
      `unique${d} ` +
        words
          .slice(0, 4 + (d % 4))
          .join(' ')
          .repeat(5),
    );
  const data = await prepareTextData({
    dataset: `text:${folder}`,
    seed: 3,
    seqLength: 8,
    vocabSize: 12,
    tokenizer: 'word',
    validation: 0.1,
  });
  assert.equal(data.task, 'language-model');
  const train = data.train as NextTokenDataset;
  assert.equal(train.tokens.length, train.count * 9);
  const held = data.description.match(/(\d+) training \/ (\d+) validation \/ (\d+) test documents/);
  assert.deepEqual(held?.slice(1), ['8', '1', '1']);
  const vocabulary = data.tokenizer.vocabulary;
  // Each 'uniqueN' word appears once; with vocabSize 12 only frequent words are in.
  assert.ok(!vocabulary.some((w) => w.startsWith('unique')));
  const subset = await prepareTextData({
    dataset: `text:${folder}`,
    seed: 3,
    seqLength: 8,
    vocabSize: 12,
    trainSubset: 3,
  });
  assert.equal(subset.train.count, 3);
});

test('encodeWindows: consecutive windows overlap by one token; documents end in the end id', () => {
  const tokenizer = fitTokenizer(['a b c d e f'], { vocabSize: 9, minCount: 1 });
  const windows = encodeWindows(['a b c', 'd e f'], tokenizer, 3, 'training');
  // stream: a b c <eos> d e f <eos> (8 ids) → floor(7 / 3) = 2 windows of 4
  assert.equal(windows.count, 2);
  const ids = (w: string) => tokenizer.vocabulary.indexOf(w);
  assert.deepEqual(
    [...windows.tokens],
    [ids('a'), ids('b'), ids('c'), 2, 2, ids('d'), ids('e'), ids('f')],
  );
  assert.throws(
    () => encodeWindows(['a'], tokenizer, 3, 'test'),
    /test documents hold 2 tokens, fewer than one window of --seq-len 3/,
  );
});

test('a corpus package that is not installed: the error says what to install', () => {
  assert.throws(
    () => packageDataDir('@stdlib/datasets-not-there'),
    /npm install --save-dev @stdlib\/datasets-not-there/,
  );
});
