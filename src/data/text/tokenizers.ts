/** Fitting a tokenizer of either kind on the training split, and reading one from its JSON. */
import { BpeTokenizer } from './bpe-tokenizer.js';
import type { Tokenizer } from './tokenizer.js';
import {
  TOKENIZER_KINDS,
  TokenizerError,
  type TokenizerJSON,
  type TokenizerOptions,
} from './tokenizer.js';
import { WordTokenizer } from './word-tokenizer.js';

/** Fits the tokenizer `options.kind` (default word level) on `texts`, the training split. */
export function fitTokenizer(texts: readonly string[], options: TokenizerOptions = {}): Tokenizer {
  const kind = options.kind ?? 'word';
  if (!TOKENIZER_KINDS.includes(kind)) {
    throw new TokenizerError(
      `tokenizer is '${String(kind)}'; expected one of ${TOKENIZER_KINDS.join(', ')}.`,
    );
  }
  return kind === 'bpe' ? BpeTokenizer.fit(texts, options) : WordTokenizer.fit(texts, options);
}

/** A tokenizer from its JSON (as saved next to a model); throws on anything else. */
export function tokenizerFromJSON(json: unknown, source = 'tokenizer'): Tokenizer {
  const value = json as Partial<TokenizerJSON> | null;
  if (
    value?.format !== 'tfjs-sam-tokenizer' ||
    value.version !== 1 ||
    !Array.isArray(value.vocabulary)
  ) {
    throw new TokenizerError(
      `${source} is not a tfjs-sam tokenizer (format 'tfjs-sam-tokenizer', version 1, a vocabulary).`,
    );
  }
  const lowercase = value.lowercase ?? true;
  if (value.kind === 'word') return new WordTokenizer(value.vocabulary, lowercase);
  if (value.kind === 'bpe' && Array.isArray(value.merges))
    return new BpeTokenizer(value.vocabulary, value.merges, lowercase);
  throw new TokenizerError(
    `${source}: tokenizer kind '${String(value.kind)}' is not one of ${TOKENIZER_KINDS.join(', ')} (bpe needs its merges).`,
  );
}
