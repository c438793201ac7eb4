import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BpeTokenizer } from './bpe-tokenizer.js';
import { END_ID, PAD_ID, splitWords, TokenizerError, UNKNOWN_ID } from './tokenizer.js';
import { fitTokenizer, tokenizerFromJSON } from './tokenizers.js';
import { WordTokenizer } from './word-tokenizer.js';

const texts = ['the cat sat on the mat', 'The dog sat on the log!', 'a cat and a dog'];

test('splitWords: lower-cased words, numbers and punctuation marks', () => {
  assert.deepEqual(splitWords("Don't PANIC: 42 fish, ok?", true), [
    "don't",
    'panic',
    ':',
    '42',
    'fish',
    ',',
    'ok',
    '?',
  ]);
});

test('word tokenizer: specials first, then words by count (ties alphabetical), rest unknown', () => {
  const tokenizer = WordTokenizer.fit(texts, { vocabSize: 8, minCount: 1 });
  // counts: the 4, sat 2, on 2, cat 2, dog 2, a 2, then 1s
  assert.deepEqual(tokenizer.vocabulary, [
    '<pad>',
    '<unk>',
    '<eos>',
    'the',
    'a',
    'cat',
    'dog',
    'on',
  ]);
  assert.deepEqual([...tokenizer.encode('The cat sat')], [3, 5, UNKNOWN_ID]);
  assert.deepEqual([...tokenizer.encode('the cat on the mat', 3)], [3, 5, 7], 'cut at maxLength');
  assert.equal(tokenizer.padId, PAD_ID);
  assert.equal(tokenizer.endId, END_ID);
});

test('word tokenizer: min count drops rare words; a vocabulary larger than the data allows is refused', () => {
  const tokenizer = WordTokenizer.fit(texts, { vocabSize: 4, minCount: 3 });
  assert.deepEqual(tokenizer.vocabulary.slice(3), ['the']);
  assert.throws(
    () => WordTokenizer.fit(texts, { vocabSize: 100, minCount: 2 }),
    (e: Error) => e instanceof TokenizerError && /at most 9 \(--vocab-size\)/.test(e.message),
  );
});

test('an empty corpus and a too small vocabulary size are refused with what to do', () => {
  assert.throws(() => fitTokenizer(['', '   ']), /no words .*non-empty corpus/);
  assert.throws(() => fitTokenizer([], { kind: 'bpe' }), /no words/);
  assert.throws(() => fitTokenizer(texts, { vocabSize: 2 }), /at least 4/);
  assert.throws(() => fitTokenizer(texts, { kind: 'bpe', vocabSize: 5 }), /at least \d+/);
});

test('bpe: merges the most frequent pair first, encodes unseen words from pieces, round-trips', () => {
  const corpus = ['low low low low low lower lower newest newest newest widest'];
  const alphabet = new Set(corpus[0]!.replace(/ /g, '')).size;
  const tokenizer = BpeTokenizer.fit(corpus, { vocabSize: 3 + alphabet + 10 });
  const first = tokenizer.merges[0]!;
  const spelled = `${tokenizer.vocabulary[first[0]]}+${tokenizer.vocabulary[first[1]]}`;
  // 'l','o' (7) ties 'o','w' (7); the smaller pair id wins; either is one of the two most frequent.
  assert.ok(['l+o', 'o+w', 'e+s', 's+t</w>'].includes(spelled), spelled);
  const low = tokenizer.encode('low');
  assert.equal(low.length, 1, 'a frequent word becomes one token');
  assert.equal(tokenizer.vocabulary[low[0]!], 'low</w>');
  const unseen = tokenizer.encode('lowest');
  assert.ok(unseen.length > 1 && unseen.length < 6);
  assert.equal(tokenizer.decode(unseen), 'lowest');
  assert.deepEqual([...tokenizer.encode('q')], [UNKNOWN_ID], 'unseen character');
  assert.throws(
    () => BpeTokenizer.fit(corpus, { vocabSize: 1000 }),
    /ran out of symbol pairs.*at most/,
  );
});

test('JSON round trip gives the same ids; other JSON is refused', () => {
  for (const kind of ['word', 'bpe'] as const) {
    const tokenizer = fitTokenizer(texts, {
      kind,
      vocabSize: kind === 'word' ? 9 : 30,
      minCount: 1,
    });
    const copy = tokenizerFromJSON(JSON.parse(JSON.stringify(tokenizer.toJSON())));
    assert.equal(copy.kind, kind);
    for (const text of [...texts, 'the cats sat on a dogged log']) {
      assert.deepEqual(copy.encode(text), tokenizer.encode(text));
    }
  }
  assert.throws(
    () => tokenizerFromJSON({ vocabulary: [] }, 'x/tokenizer.json'),
    /x\/tokenizer.json is not a tfjs-sam tokenizer/,
  );
});
