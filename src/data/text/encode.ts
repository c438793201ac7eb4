/**
 * Texts to fixed-length rows of token ids, and documents to next-token windows. Browser-safe (no
 * file access), so the demo encodes its sample with the same code as the trainer.
 */
import type { Tokenizer } from './tokenizer.js';
import type { NextTokenDataset, TokenDataset } from './types.js';

/** Rows of `seqLength` ids per text (cut, or padded with the pad id 0). */
export function encodeTexts(
  texts: readonly string[],
  labels: Int32Array,
  classes: number,
  tokenizer: Tokenizer,
  seqLength: number,
  classNames?: readonly string[],
): { dataset: TokenDataset; truncated: number; total: number } {
  const tokens = new Int32Array(texts.length * seqLength).fill(tokenizer.padId);
  let truncated = 0;
  let total = 0;
  texts.forEach((text, row) => {
    const ids = tokenizer.encode(text);
    total += ids.length;
    truncated += Math.max(0, ids.length - seqLength);
    tokens.set(ids.subarray(0, seqLength), row * seqLength);
  });
  const dataset: TokenDataset = {
    kind: 'tokens',
    tokens,
    seqLength,
    count: texts.length,
    labels,
    classes,
    vocabSize: tokenizer.vocabSize,
    ...(classNames === undefined ? {} : { classNames }),
  };
  return { dataset, truncated, total };
}

/**
 * Non-overlapping windows of `seqLength + 1` ids over the documents' tokens, each document
 * followed by the end-of-text id. Throws when the documents hold fewer than `seqLength + 1` tokens.
 */
export function encodeWindows(
  texts: readonly string[],
  tokenizer: Tokenizer,
  seqLength: number,
  part: string,
): NextTokenDataset {
  const pieces = texts.map((text) => tokenizer.encode(text));
  const length = pieces.reduce((sum, p) => sum + p.length + 1, 0);
  const stream = new Int32Array(length);
  let cursor = 0;
  for (const piece of pieces) {
    stream.set(piece, cursor);
    cursor += piece.length;
    stream[cursor++] = tokenizer.endId;
  }
  const count = Math.floor((length - 1) / seqLength);
  if (count < 1) {
    throw new RangeError(
      `the ${part} documents hold ${length} tokens, fewer than one window of --seq-len ${seqLength} + 1; use a shorter --seq-len or more text.`,
    );
  }
  const tokens = new Int32Array(count * (seqLength + 1));
  for (let row = 0; row < count; row++) {
    tokens.set(
      stream.subarray(row * seqLength, row * seqLength + seqLength + 1),
      row * (seqLength + 1),
    );
  }
  return { kind: 'next-token', tokens, seqLength, count, vocabSize: tokenizer.vocabSize };
}
