/** The word-level tokenizer: the most frequent words of the training texts. */
import {
  byCountThenText,
  checkMinCount,
  checkVocabSize,
  countWords,
  SPECIALS,
  Tokenizer,
  TokenizerError,
  UNKNOWN_ID,
  type TokenizerJSON,
  type TokenizerOptions,
} from './tokenizer.js';

export class WordTokenizer extends Tokenizer {
  readonly kind = 'word';

  constructor(vocabulary: readonly string[], lowercase = true) {
    super(vocabulary, lowercase);
  }

  static fit(texts: readonly string[], options: TokenizerOptions = {}): WordTokenizer {
    const vocabSize = checkVocabSize(options.vocabSize ?? 10_000);
    const minCount = checkMinCount(options.minCount ?? 2);
    const lowercase = options.lowercase ?? true;
    const counts = countWords(texts, lowercase);
    const kept = [...counts].filter(([, count]) => count >= minCount).sort(byCountThenText);
    const room = vocabSize - SPECIALS.length;
    if (kept.length < room) {
      throw new TokenizerError(
        `vocabulary size ${vocabSize} is larger than the training texts allow: they hold ${kept.length} distinct words seen at least ${minCount} times ` +
          `(${counts.size} distinct words in all); use a vocabulary size of at most ${kept.length + SPECIALS.length} (--vocab-size), a lower minimum count, or more data.`,
      );
    }
    return new WordTokenizer(
      [...SPECIALS, ...kept.slice(0, room).map(([word]) => word)],
      lowercase,
    );
  }

  protected encodeWord(word: string): readonly number[] {
    return [this.ids.get(word) ?? UNKNOWN_ID];
  }

  toJSON(): TokenizerJSON {
    return {
      format: 'tfjs-sam-tokenizer',
      version: 1,
      kind: 'word',
      lowercase: this.lowercase,
      vocabulary: [...this.vocabulary],
    };
  }
}
