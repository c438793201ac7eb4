/**
 * Byte-pair encoding (Sennrich et al. 2016): merges of the most frequent adjacent symbol pairs,
 * learned from the words of the training texts.
 */
import {
  byCountThenText,
  checkMinCount,
  checkVocabSize,
  countWords,
  END_OF_WORD,
  SPECIALS,
  Tokenizer,
  TokenizerError,
  UNKNOWN_ID,
  type TokenizerJSON,
  type TokenizerOptions,
} from './tokenizer.js';

/** A max-heap of (count, pair) entries; stale entries are skipped when popped. */
class PairHeap {
  private readonly counts: number[] = [];
  private readonly keys: number[] = [];

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number] | undefined {
    if (this.counts.length === 0) return undefined;
    const top: [number, number] = [this.counts[0] as number, this.keys[0] as number];
    const lastCount = this.counts.pop() as number;
    const lastKey = this.keys.pop() as number;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < this.counts.length && this.before(left, best)) best = left;
        if (right < this.counts.length && this.before(right, best)) best = right;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }

  /** Larger count first; among equal counts the smaller key, so fitting is deterministic. */
  private before(a: number, b: number): boolean {
    const ca = this.counts[a] as number;
    const cb = this.counts[b] as number;
    return ca > cb || (ca === cb && (this.keys[a] as number) < (this.keys[b] as number));
  }

  private swap(a: number, b: number): void {
    [this.counts[a], this.counts[b]] = [this.counts[b] as number, this.counts[a] as number];
    [this.keys[a], this.keys[b]] = [this.keys[b] as number, this.keys[a] as number];
  }
}

const PAIR_BASE = 2 ** 21;
const pairKey = (a: number, b: number) => a * PAIR_BASE + b;

export class BpeTokenizer extends Tokenizer {
  readonly kind = 'bpe';
  readonly merges: ReadonlyArray<readonly [number, number]>;
  private readonly ranks: Map<number, number>;
  private readonly cache = new Map<string, readonly number[]>();

  constructor(
    vocabulary: readonly string[],
    merges: ReadonlyArray<readonly [number, number]>,
    lowercase = true,
  ) {
    super(vocabulary, lowercase);
    this.merges = merges;
    this.ranks = new Map(merges.map(([a, b], rank) => [pairKey(a, b), rank]));
  }

  /**
   * Learns merges from the words of `texts` until the vocabulary (specials, the characters seen at
   * least `minCount` times, one symbol per merge) reaches `vocabSize`.
   */
  static fit(texts: readonly string[], options: TokenizerOptions = {}): BpeTokenizer {
    const vocabSize = checkVocabSize(options.vocabSize ?? 10_000);
    const minCount = checkMinCount(options.minCount ?? 1);
    const lowercase = options.lowercase ?? true;
    const counts = countWords(texts, lowercase);
    const symbolCounts = new Map<string, number>();
    const split = (word: string) => {
      const chars = [...word];
      chars[chars.length - 1] += END_OF_WORD;
      return chars;
    };
    for (const [word, count] of counts) {
      for (const symbol of split(word))
        symbolCounts.set(symbol, (symbolCounts.get(symbol) ?? 0) + count);
    }
    const alphabet = [...symbolCounts]
      .filter(([, c]) => c >= minCount)
      .sort(byCountThenText)
      .map(([s]) => s);
    const vocabulary: string[] = [...SPECIALS, ...alphabet];
    if (vocabulary.length > vocabSize) {
      throw new TokenizerError(
        `vocabulary size ${vocabSize} is smaller than the ${vocabulary.length} symbols byte-pair encoding starts from (3 special ids and the characters of the training texts); ` +
          `use --vocab-size of at least ${vocabulary.length}, or a higher minimum count.`,
      );
    }
    const ids = new Map(vocabulary.map((s, i) => [s, i]));
    const words = [...counts].map(([word, count]) => ({
      symbols: split(word).map((s) => ids.get(s) ?? UNKNOWN_ID),
      count,
    }));
    const pairCounts = new Map<number, number>();
    const pairWords = new Map<number, Set<number>>();
    const heap = new PairHeap();
    const add = (key: number, count: number, word: number) => {
      const next = (pairCounts.get(key) ?? 0) + count;
      pairCounts.set(key, next);
      let set = pairWords.get(key);
      if (set === undefined) pairWords.set(key, (set = new Set()));
      set.add(word);
      return next;
    };
    words.forEach(({ symbols, count }, w) => {
      for (let i = 0; i + 1 < symbols.length; i++)
        add(pairKey(symbols[i] as number, symbols[i + 1] as number), count, w);
    });
    for (const [key, count] of pairCounts) heap.push(count, key);
    const merges: Array<[number, number]> = [];
    while (vocabulary.length < vocabSize) {
      const top = heap.pop();
      if (top === undefined) {
        throw new TokenizerError(
          `vocabulary size ${vocabSize} is larger than the training texts allow: byte-pair encoding ran out of symbol pairs to merge at ${vocabulary.length} tokens; ` +
            `use --vocab-size of at most ${vocabulary.length}, or more data.`,
        );
      }
      const [count, key] = top;
      if (pairCounts.get(key) !== count || count <= 0) continue;
      const a = Math.floor(key / PAIR_BASE);
      const b = key % PAIR_BASE;
      const merged = vocabulary.length;
      vocabulary.push((vocabulary[a] as string) + (vocabulary[b] as string));
      merges.push([a, b]);
      const touched = new Set<number>();
      for (const w of pairWords.get(key) ?? []) {
        const word = words[w] as { symbols: number[]; count: number };
        const s = word.symbols;
        // Remove this word's pairs, merge, add its new pairs back.
        for (let i = 0; i + 1 < s.length; i++) {
          const k = pairKey(s[i] as number, s[i + 1] as number);
          pairCounts.set(k, (pairCounts.get(k) as number) - word.count);
          touched.add(k);
        }
        const next: number[] = [];
        for (let i = 0; i < s.length; i++) {
          if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
            next.push(merged);
            i++;
          } else next.push(s[i] as number);
        }
        word.symbols = next;
        for (let i = 0; i + 1 < next.length; i++) {
          const k = pairKey(next[i] as number, next[i + 1] as number);
          add(k, word.count, w);
          touched.add(k);
        }
      }
      pairWords.delete(key);
      pairCounts.delete(key);
      touched.delete(key);
      for (const k of touched) {
        const c = pairCounts.get(k) as number;
        if (c > 0) heap.push(c, k);
      }
    }
    return new BpeTokenizer(vocabulary, merges, lowercase);
  }

  protected encodeWord(word: string): readonly number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    const chars = [...word];
    chars[chars.length - 1] += END_OF_WORD;
    let symbols = chars.map((c) => this.ids.get(c) ?? UNKNOWN_ID);
    for (;;) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(pairKey(symbols[i] as number, symbols[i + 1] as number));
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const [a, b] = this.merges[bestRank] as readonly [number, number];
      // Merge r made id (vocabulary size − merges + r); two merges may spell the same string.
      const merged = this.vocabulary.length - this.merges.length + bestRank;
      const next: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i + 1 < symbols.length && symbols[i] === a && symbols[i + 1] === b) {
          next.push(merged);
          i++;
        } else next.push(symbols[i] as number);
      }
      symbols = next;
    }
    if (this.cache.size < 200_000) this.cache.set(word, symbols);
    return symbols;
  }

  toJSON(): TokenizerJSON {
    return {
      format: 'tfjs-sam-tokenizer',
      version: 1,
      kind: 'bpe',
      lowercase: this.lowercase,
      vocabulary: [...this.vocabulary],
      merges: this.merges.map(([a, b]) => [a, b]),
    };
  }
}
