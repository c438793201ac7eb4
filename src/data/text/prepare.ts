/**
 * The text datasets by name, and their preparation for training: seeded splits (by text for
 * classification, by document for language modelling so that validation and test documents are
 * unseen), class-balanced training subsets, symmetric label noise, a tokenizer fitted on the
 * training split only, and the encoding into fixed-length rows of token ids.
 */
import { statSync } from 'node:fs';
import { addSymmetricLabelNoise } from '../label-noise.js';
import { classBalancedIndices, holdOutIndices } from '../split.js';
import { createRandom, permutation, sampleWithoutReplacement } from '../../util/random.js';
import { loadSotu, loadSpamAssassin, loadTextFolder } from './corpora.js';
import { loadLabeledTextFile } from './table.js';
import { type Tokenizer, type TokenizerKind, TOKENIZER_KINDS } from './tokenizer.js';
import { fitTokenizer } from './tokenizers.js';
import { encodeTexts, encodeWindows } from './encode.js';

export { encodeTexts, encodeWindows };
import type {
  LanguageCorpus,
  NextTokenDataset,
  TextClassificationCorpus,
  TokenDataset,
} from './types.js';

/** The named text datasets; `text:FILE` (CSV/JSONL) and `text:DIR` (.txt files) are the user's own. */
export const TEXT_DATASETS = ['spam-assassin', 'sotu'] as const;
export type TextTask = 'classification' | 'language-model';

/** Thrown for a text-data setting that cannot work; the message names the flag. */
export class TextDataError extends Error {
  override readonly name = 'TextDataError';
}

/** True for the names `prepareTextData` reads: spam-assassin, sotu, text:PATH. */
export function isTextDatasetName(name: string): boolean {
  return (TEXT_DATASETS as readonly string[]).includes(name) || name.startsWith('text:');
}

/** What a text dataset name trains: classification (spam, a CSV/JSONL) or a language model. */
export function textTask(name: string): TextTask {
  if (name === 'spam-assassin') return 'classification';
  if (name === 'sotu') return 'language-model';
  if (name.startsWith('text:')) {
    const path = name.slice(5);
    if (path === '')
      throw new TextDataError(
        '--dataset text: needs a path: text:FILE.csv, text:FILE.jsonl or text:FOLDER of .txt files.',
      );
    let folder = false;
    try {
      folder = statSync(path).isDirectory();
    } catch {
      folder = false;
    }
    return folder ? 'language-model' : 'classification';
  }
  throw new TextDataError(
    `'${name}' is not a text dataset; expected ${TEXT_DATASETS.join(', ')} or text:FILE.`,
  );
}

export interface TextDataOptions {
  dataset: string;
  /** The data/ folder of the npm corpus, when not the installed package's. */
  dataDir?: string;
  /** CSV/JSONL columns (default 'text' and 'label'). */
  textColumn?: string;
  labelColumn?: string;
  tokenizer?: TokenizerKind;
  /** Default 10 000 (classification, word), 4 000 (bpe), 8 000 (language model, word). */
  vocabSize?: number;
  /** Tokens per example (classification: longer texts are cut) or context length (language model). Default 128. */
  seqLength?: number;
  /** Classification: this many training texts, class-balanced; language model: this many training windows. */
  trainSubset?: number;
  /** Fraction of training labels flipped to another class (classification only). */
  labelNoise?: number;
  /** Fraction of the training part held out for validation (language model: of documents, default 0.1). */
  validation?: number;
  /** Fraction of texts (classification) or documents (language model) held out for test. Default 0.2 / 0.1. */
  testFraction?: number;
  seed: number;
  /** Use this tokenizer (e.g. a saved model's) instead of fitting one. */
  fittedTokenizer?: Tokenizer;
}

export interface PreparedTextData {
  task: TextTask;
  train: TokenDataset | NextTokenDataset;
  validation: TokenDataset | NextTokenDataset | null;
  test: TokenDataset | NextTokenDataset | null;
  tokenizer: Tokenizer;
  description: string;
  flippedLabels: number;
  /** Classification: the texts' tokens cut by seqLength, as a share of all tokens (0 for LM). */
  truncatedShare: number;
}

function checkSeqLength(value: number | undefined): number {
  const seqLength = value ?? 128;
  if (!Number.isInteger(seqLength) || seqLength < 1) {
    throw new TextDataError(
      `--seq-len is ${seqLength}; expected an integer >= 1 (the tokens per example, e.g. 128).`,
    );
  }
  return seqLength;
}

function checkFractionFlag(flag: string, value: number, max = 0.9): number {
  if (!Number.isFinite(value) || value < 0 || value > max) {
    throw new TextDataError(`${flag} is ${value}; expected a number in [0, ${max}].`);
  }
  return value;
}

function tokenizerFor(
  options: TextDataOptions,
  texts: readonly string[],
  task: TextTask,
): Tokenizer {
  if (options.fittedTokenizer !== undefined) return options.fittedTokenizer;
  const kind = options.tokenizer ?? 'word';
  if (!TOKENIZER_KINDS.includes(kind)) {
    throw new TextDataError(
      `--tokenizer is '${String(kind)}'; expected one of ${TOKENIZER_KINDS.join(', ')}.`,
    );
  }
  const vocabSize =
    options.vocabSize ?? (kind === 'bpe' ? 4000 : task === 'language-model' ? 8000 : 10_000);
  return fitTokenizer(texts, { kind, vocabSize });
}

const pick = <T>(values: readonly T[], indices: ArrayLike<number>): T[] =>
  Array.from(indices as ArrayLike<number>, (i) => values[i] as T);

async function classification(
  options: TextDataOptions,
  corpus: TextClassificationCorpus,
): Promise<PreparedTextData> {
  const seqLength = checkSeqLength(options.seqLength);
  const testFraction = checkFractionFlag('test fraction', options.testFraction ?? 0.2);
  const validationFraction = checkFractionFlag('--validation', options.validation ?? 0);
  const noise = checkFractionFlag('--label-noise', options.labelNoise ?? 0, 0.99);
  const all = corpus.labels;
  const testCount = Math.round(testFraction * corpus.texts.length);
  const { keptIndices, heldOutIndices: testIndices } = holdOutIndices(
    all,
    corpus.classes,
    testCount,
    options.seed,
  );
  let trainIndices = keptIndices;
  let validationIndices = new Int32Array(0);
  if (validationFraction > 0) {
    const kept = Int32Array.from(keptIndices, (i) => all[i] as number);
    const split = holdOutIndices(
      kept,
      corpus.classes,
      Math.round(validationFraction * keptIndices.length),
      options.seed + 3,
    );
    trainIndices = Int32Array.from(split.keptIndices, (i) => keptIndices[i] as number);
    validationIndices = Int32Array.from(split.heldOutIndices, (i) => keptIndices[i] as number);
  }
  if (options.trainSubset !== undefined) {
    const subset = options.trainSubset;
    if (subset > trainIndices.length) {
      throw new TextDataError(
        `--train-subset is ${subset}, but the training split has only ${trainIndices.length} texts.`,
      );
    }
    const perClass = Math.floor(subset / corpus.classes);
    if (perClass < 1) {
      throw new TextDataError(
        `--train-subset is ${subset}; it must be at least the number of classes (${corpus.classes}).`,
      );
    }
    const trainLabels = Int32Array.from(trainIndices, (i) => all[i] as number);
    const smallest = Math.min(
      ...Array.from(
        { length: corpus.classes },
        (_, c) => trainLabels.filter((l) => l === c).length,
      ),
    );
    if (perClass > smallest) {
      throw new TextDataError(
        `--train-subset ${subset} asks for ${perClass} texts of each of ${corpus.classes} classes, but the smallest class has ${smallest} training texts; use --train-subset ${smallest * corpus.classes} or less.`,
      );
    }
    const chosen = classBalancedIndices(trainLabels, corpus.classes, perClass, options.seed);
    trainIndices = Int32Array.from(chosen, (i) => trainIndices[i] as number);
  }
  const trainTexts = pick(corpus.texts, trainIndices);
  let trainLabels = Int32Array.from(trainIndices, (i) => all[i] as number);
  let flippedLabels = 0;
  if (noise > 0) {
    const noisy = addSymmetricLabelNoise(trainLabels, {
      fraction: noise,
      classes: corpus.classes,
      seed: options.seed + 1,
    });
    trainLabels = noisy.labels;
    flippedLabels = noisy.flippedIndices.length;
  }
  const tokenizer = tokenizerFor(options, trainTexts, 'classification');
  const encode = (indices: Int32Array, labels?: Int32Array) =>
    encodeTexts(
      pick(corpus.texts, indices),
      labels ?? Int32Array.from(indices, (i) => all[i] as number),
      corpus.classes,
      tokenizer,
      seqLength,
      corpus.classNames,
    );
  const train = encode(trainIndices, trainLabels);
  const validation = validationIndices.length > 0 ? encode(validationIndices).dataset : null;
  const test = testIndices.length > 0 ? encode(testIndices).dataset : null;
  const truncatedShare = train.total === 0 ? 0 : train.truncated / train.total;
  const parts = [
    `${options.dataset}: ${train.dataset.count} training texts`,
    validation ? `${validation.count} validation` : null,
    `${test?.count ?? 0} test`,
    `classes ${corpus.classNames.join('/')}`,
    `${tokenizer.kind} tokenizer, vocabulary ${tokenizer.vocabSize}, ${seqLength} tokens per text (${(truncatedShare * 100).toFixed(0)}% of training tokens cut)`,
    noise > 0
      ? `${Math.round(noise * 100)}% symmetric label noise on training labels (${flippedLabels} flipped; test labels clean)`
      : null,
  ];
  return {
    task: 'classification',
    train: train.dataset,
    validation,
    test,
    tokenizer,
    description: parts.filter(Boolean).join(', '),
    flippedLabels,
    truncatedShare,
  };
}

function languageModel(options: TextDataOptions, corpus: LanguageCorpus): PreparedTextData {
  const seqLength = checkSeqLength(options.seqLength);
  if ((options.labelNoise ?? 0) > 0) {
    throw new TextDataError(
      `--label-noise is ${options.labelNoise}, but ${options.dataset} trains a language model, which has no labels to flip; leave --label-noise out.`,
    );
  }
  const documents = corpus.documents;
  const n = documents.length;
  const testCount = Math.round(checkFractionFlag('test fraction', options.testFraction ?? 0.1) * n);
  const validationCount = Math.round(
    checkFractionFlag('--validation', options.validation || 0.1) * n,
  );
  if (n - testCount - validationCount < 1 || (n >= 3 && (testCount < 1 || validationCount < 1))) {
    throw new TextDataError(
      `${options.dataset} has ${n} documents; splitting them by document leaves ${n - testCount - validationCount} for training, ${validationCount} for validation and ${testCount} for test. Use more documents (at least 3) or other fractions.`,
    );
  }
  const order = permutation(n, createRandom(options.seed));
  const testIds = order.slice(0, testCount).sort();
  const validationIds = order.slice(testCount, testCount + validationCount).sort();
  const trainIds = order.slice(testCount + validationCount).sort();
  const texts = (ids: Int32Array) => pick(documents, ids).map((d) => d.text);
  const tokenizer = tokenizerFor(options, texts(trainIds), 'language-model');
  let train = encodeWindows(texts(trainIds), tokenizer, seqLength, 'training');
  if (options.trainSubset !== undefined) {
    if (options.trainSubset > train.count) {
      throw new TextDataError(
        `--train-subset is ${options.trainSubset} windows, but the training documents give only ${train.count} windows of ${seqLength} tokens.`,
      );
    }
    const rows = sampleWithoutReplacement(
      train.count,
      options.trainSubset,
      createRandom(options.seed),
    ).sort();
    const width = seqLength + 1;
    const tokens = new Int32Array(rows.length * width);
    rows.forEach((row, i) =>
      tokens.set(train.tokens.subarray(row * width, (row + 1) * width), i * width),
    );
    train = { ...train, tokens, count: rows.length };
  }
  const validation =
    validationIds.length > 0
      ? encodeWindows(texts(validationIds), tokenizer, seqLength, 'validation')
      : null;
  const test =
    testIds.length > 0 ? encodeWindows(texts(testIds), tokenizer, seqLength, 'test') : null;
  const description =
    `${options.dataset}: language model, ${trainIds.length} training / ${validationIds.length} validation / ${testIds.length} test documents ` +
    `(${train.count} / ${validation?.count ?? 0} / ${test?.count ?? 0} windows of ${seqLength} tokens), ${tokenizer.kind} tokenizer, vocabulary ${tokenizer.vocabSize}`;
  return {
    task: 'language-model',
    train,
    validation,
    test,
    tokenizer,
    description,
    flippedLabels: 0,
    truncatedShare: 0,
  };
}

/** Loads the text dataset `options.dataset` and prepares it for training (see the module comment). */
export async function prepareTextData(options: TextDataOptions): Promise<PreparedTextData> {
  const task = textTask(options.dataset);
  const corpusOptions = options.dataDir === undefined ? {} : { dataDir: options.dataDir };
  if (options.dataset === 'spam-assassin')
    return classification(options, await loadSpamAssassin(corpusOptions));
  if (options.dataset === 'sotu') return languageModel(options, loadSotu(corpusOptions));
  const path = options.dataset.slice(5);
  if (task === 'language-model') return languageModel(options, loadTextFolder(path));
  return classification(
    options,
    loadLabeledTextFile(path, {
      ...(options.textColumn === undefined ? {} : { textColumn: options.textColumn }),
      ...(options.labelColumn === undefined ? {} : { labelColumn: options.labelColumn }),
    }),
  );
}
