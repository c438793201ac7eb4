/**
 * What the tokenizers share: the base class (encode, decode, JSON), the special ids, splitting
 * text into words and the checks of their options. Word level: word-tokenizer.ts; byte-pair
 * encoding: bpe-tokenizer.ts; fitting either and reading one from JSON: tokenizers.ts. Every
 * tokenizer serializes to JSON so that a saved model carries its vocabulary; ids 0, 1 and 2 are
 * padding, out-of-vocabulary and end of text.
 */

/** The id of padding, which attention masks and pooling ignore. */
export const PAD_ID = 0;
/** The id of a word or symbol outside the vocabulary. */
export const UNKNOWN_ID = 1;
/** The id that ends a text (and separates texts in language-model windows). */
export const END_ID = 2;
export const SPECIALS = ['<pad>', '<unk>', '<eos>'] as const;
/** Marks the last symbol of a word in byte-pair encoding, so merges never cross words. */
export const END_OF_WORD = '</w>';

export type TokenizerKind = 'word' | 'bpe';
export const TOKENIZER_KINDS: readonly TokenizerKind[] = ['word', 'bpe'];

/** Thrown when a tokenizer cannot be fitted as asked (empty corpus, vocabulary too large or small). */
export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
}

export interface TokenizerOptions {
  kind?: TokenizerKind;
  /** Size of the vocabulary, the three special ids included. Default 10 000. */
  vocabSize?: number;
  /** Words (word level) or characters (bpe) seen fewer times map to the unknown id. Default 1 (word: 2). */
  minCount?: number;
  /** Lower-case the text first. Default true. */
  lowercase?: boolean;
}

export interface TokenizerJSON {
  format: 'tfjs-sam-tokenizer';
  version: 1;
  kind: TokenizerKind;
  lowercase: boolean;
  /** The token of each id. */
  vocabulary: string[];
  /** bpe: the merges in the order learned, as pairs of ids. */
  merges?: Array<[number, number]>;
}

/** Words, numbers and single punctuation marks, the units both tokenizers start from. */
const WORD = /[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*|\p{N}+|[^\s\p{L}\p{M}\p{N}]/gu;

export function splitWords(text: string, lowercase: boolean): string[] {
  const normalized = text.normalize('NFKC');
  return (lowercase ? normalized.toLowerCase() : normalized).match(WORD) ?? [];
}

export function countWords(texts: readonly string[], lowercase: boolean): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const word of splitWords(text, lowercase)) counts.set(word, (counts.get(word) ?? 0) + 1);
  }
  if (counts.size === 0) {
    throw new TokenizerError(
      `the training texts hold no words (${texts.length} texts); a tokenizer needs a non-empty corpus.`,
    );
  }
  return counts;
}

export const byCountThenText = (a: [string, number], b: [string, number]) =>
  b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

export abstract class Tokenizer {
  abstract readonly kind: TokenizerKind;
  readonly vocabulary: readonly string[];
  readonly lowercase: boolean;
  protected readonly ids: Map<string, number>;

  protected constructor(vocabulary: readonly string[], lowercase: boolean) {
    this.vocabulary = vocabulary;
    this.lowercase = lowercase;
    this.ids = new Map(vocabulary.map((token, id) => [token, id]));
  }

  get vocabSize(): number {
    return this.vocabulary.length;
  }

  get padId(): number {
    return PAD_ID;
  }

  get unknownId(): number {
    return UNKNOWN_ID;
  }

  get endId(): number {
    return END_ID;
  }

  /** The ids of `text`; at most `maxLength` of them when given (the rest is cut). */
  encode(text: string, maxLength = Infinity): Int32Array {
    const out: number[] = [];
    for (const word of splitWords(text, this.lowercase)) {
      for (const id of this.encodeWord(word)) {
        if (out.length >= maxLength) return Int32Array.from(out);
        out.push(id);
      }
    }
    return Int32Array.from(out);
  }

  /** The tokens of `ids` joined by spaces (bpe: word ends restored), for inspection. */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id === PAD_ID) continue;
      parts.push(this.vocabulary[id] ?? SPECIALS[UNKNOWN_ID]);
    }
    return this.kind === 'bpe'
      ? parts.join('').split(END_OF_WORD).join(' ').trim()
      : parts.join(' ');
  }

  protected abstract encodeWord(word: string): readonly number[];

  abstract toJSON(): TokenizerJSON;
}

export function checkVocabSize(value: number): number {
  if (!Number.isInteger(value) || value < SPECIALS.length + 1) {
    throw new TokenizerError(
      `vocabulary size is ${value}; expected an integer of at least ${SPECIALS.length + 1} (3 special ids and one token).`,
    );
  }
  return value;
}

export function checkMinCount(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new TokenizerError(`minimum count is ${value}; expected an integer >= 1.`);
  }
  return value;
}
