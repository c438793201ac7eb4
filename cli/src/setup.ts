/** What every CLI command shares: the backend, the data set and its preparation, the model. */
import { selectBackend, type BackendChoice } from 'tfjs-sam';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  addSymmetricLabelNoise,
  loadBundledFashionMnist,
  loadCifar10,
  loadCifar100,
  loadFashionMnist,
  loadMnist,
  subsetDataset,
  classBalancedIndices,
  trainValidationSplit,
  type ImageDataset,
} from 'tfjs-sam/data';
import type { TrainerData } from 'tfjs-sam/trainer';
import { fitToModel, type ModelFit } from './data/fit.js';
import { loadUserData } from './data/user-data.js';
import type { UserModel } from './user-model.js';
import {
  isTextDatasetName,
  prepareTextData,
  type TEXT_DATASETS,
  type Tokenizer,
  type TokenizerKind,
} from 'tfjs-sam/text';
import type { Examples } from 'tfjs-sam/data';
import { modelForData } from 'tfjs-sam/trainer';

export const DATASETS = [
  'fashion-mnist-mini',
  'fashion-mnist',
  'mnist',
  'cifar10',
  'cifar100',
] as const;
/** An image set, a text corpus, or the user's text (text:FILE.csv|jsonl, text:FOLDER). */
export type DatasetName =
  (typeof DATASETS)[number] | (typeof TEXT_DATASETS)[number] | `text:${string}`;
export const BACKENDS = ['wasm', 'cpu', 'node'] as const;

export interface DataOptions {
  dataset: DatasetName;
  dataDir?: string;
  /** Use only this many training samples (class-balanced, seeded). */
  trainSubset?: number;
  /** Fraction of training labels replaced by another class (test labels stay clean). */
  labelNoise: number;
  /** Fraction of the training set held out for validation (0 = none). */
  validation: number;
  seed: number;
  /** The user's training data (--data), in place of --dataset, and test data (--test-data). */
  data?: string;
  testData?: string;
  /** The label column of CSV and JSON Lines data (--data, and text:FILE). */
  labelColumn?: string;
  /** The --model file the data must fit: its sample shape and classes. */
  fit?: ModelFit;
  /** Text data: the text column of text:FILE, tokenizer, vocabulary, tokens per example. */
  textColumn?: string;
  tokenizer?: TokenizerKind;
  vocabSize?: number;
  seqLen?: number;
  /** Text data: encode with this tokenizer (a saved model's) instead of fitting one. */
  fittedTokenizer?: Tokenizer;
}

export interface PreparedData extends TrainerData {
  train: Examples;
  validation: Examples | null;
  test: Examples | null;
  description: string;
  flippedLabels: number;
  /** The --model file, when the model is the user's. */
  userModel?: UserModel;
}

interface LoadedSplits {
  name: string;
  train: ImageDataset;
  test: ImageDataset | null;
}

/** --data and --test-data, checked against the model file or against each other. */
function loadOwnData(options: DataOptions & { data: string }): LoadedSplits {
  const channels = options.fit?.inputShape.length === 3 ? options.fit.inputShape[2] : undefined;
  const read = (path: string, flag: string) => {
    const loaded = loadUserData(path, {
      ...(options.labelColumn === undefined ? {} : { labelColumn: options.labelColumn }),
      ...(channels === undefined ? {} : { channels }),
    });
    return options.fit === undefined ? loaded.dataset : fitToModel(loaded, options.fit, flag);
  };
  let train = read(options.data, '--data');
  let test = options.testData === undefined ? null : read(options.testData, '--test-data');
  if (test !== null && options.fit === undefined) {
    if (test.shape.join('×') !== train.shape.join('×')) {
      throw new Error(
        `--test-data ${options.testData}: samples are ${test.shape.join('×')}; --data ${options.data} has ${train.shape.join('×')}. Give test data of the training data's shape.`,
      );
    }
    const classes = Math.max(train.classes, test.classes);
    train = { ...train, classes };
    test = { ...test, classes };
  }
  return { name: options.data, train, test };
}

/**
 * Starts the backend the user asked for (wasm with the training kernels by default) through
 * `selectBackend`, which says what to install when it cannot.
 */
export async function startBackend(name: string, log?: (message: string) => void): Promise<string> {
  if (!(BACKENDS as readonly string[]).includes(name)) {
    throw new Error(`--backend is '${name}'; expected one of ${BACKENDS.join(', ')}.`);
  }
  return selectBackend(
    log === undefined ? { prefer: name as BackendChoice } : { prefer: name as BackendChoice, log },
  );
}

async function loadDataset(options: DataOptions): Promise<LoadedSplits> {
  if (options.data !== undefined) return loadOwnData({ ...options, data: options.data });
  const loaded = await loadBuiltIn(options);
  return { name: options.dataset, train: loaded.train, test: loaded.test };
}

async function loadBuiltIn(options: DataOptions) {
  switch (options.dataset) {
    case 'fashion-mnist-mini':
      return loadBundledFashionMnist();
    case 'fashion-mnist':
      return loadFashionMnist(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
    case 'mnist':
      return loadMnist(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
    case 'cifar10':
    case 'cifar100': {
      if (options.dataDir === undefined) {
        throw new Error(
          `--dataset ${options.dataset} needs --data-dir (the folder of the binary version of the data set).`,
        );
      }
      return options.dataset === 'cifar10'
        ? loadCifar10({ dataDir: options.dataDir })
        : loadCifar100({ dataDir: options.dataDir });
    }
    default:
      throw new Error(
        `--dataset is '${String(options.dataset)}'; expected one of ${DATASETS.join(', ')}.`,
      );
  }
}

/** Text corpora through tfjs-sam/text: splits, subsets, noise and the tokenizer in one place. */
async function prepareText(options: DataOptions): Promise<PreparedData> {
  const optional = <K extends keyof DataOptions>(key: K, as: string = key) =>
    options[key] === undefined ? {} : { [as]: options[key] };
  const prepared = await prepareTextData({
    dataset: options.dataset,
    seed: options.seed,
    labelNoise: options.labelNoise,
    validation: options.validation,
    ...optional('dataDir'),
    ...optional('trainSubset'),
    ...optional('textColumn'),
    ...optional('labelColumn'),
    ...optional('tokenizer'),
    ...optional('vocabSize'),
    ...optional('seqLen', 'seqLength'),
    ...optional('fittedTokenizer'),
  });
  return {
    train: prepared.train,
    validation: prepared.validation,
    test: prepared.test,
    tokenizer: prepared.tokenizer,
    description: prepared.description,
    flippedLabels: prepared.flippedLabels,
  };
}

export async function prepareData(options: DataOptions): Promise<PreparedData> {
  if (options.data === undefined && isTextDatasetName(options.dataset)) return prepareText(options);
  const loaded = await loadDataset(options);
  let train: ImageDataset = loaded.train;
  if (options.trainSubset !== undefined) {
    if (options.trainSubset > train.count) {
      throw new Error(
        `--train-subset is ${options.trainSubset}, but the training set has only ${train.count} samples.`,
      );
    }
    const perClass = Math.floor(options.trainSubset / train.classes);
    if (perClass < 1) {
      throw new Error(
        `--train-subset is ${options.trainSubset}; it must be at least the number of classes (${train.classes}).`,
      );
    }
    train = subsetDataset(
      train,
      classBalancedIndices(train.labels, train.classes, perClass, options.seed),
    );
  }
  let validation: ImageDataset | null = null;
  if (options.validation > 0) {
    const split = trainValidationSplit(train, {
      validationFraction: options.validation,
      seed: options.seed,
    });
    train = split.train;
    validation = split.validation;
  }
  let flippedLabels = 0;
  if (options.labelNoise > 0) {
    const noisy = addSymmetricLabelNoise(train.labels, {
      fraction: options.labelNoise,
      classes: train.classes,
      seed: options.seed + 1,
    });
    train = { ...train, labels: noisy.labels };
    flippedLabels = noisy.flippedIndices.length;
  }
  const parts = [
    `${loaded.name}: ${train.count} training samples`,
    validation ? `${validation.count} validation` : null,
    loaded.test === null ? 'no test data' : `${loaded.test.count} test`,
    options.labelNoise > 0
      ? `${Math.round(options.labelNoise * 100)}% symmetric label noise on training labels (${flippedLabels} flipped; test labels clean)`
      : null,
  ];
  return {
    train,
    validation,
    test: loaded.test,
    description: parts.filter(Boolean).join(', '),
    flippedLabels,
  };
}

export function modelBuilder(
  name: string,
  data: { train: Examples; userModel?: UserModel },
  seed: number,
): () => tfl.LayersModel | Promise<tfl.LayersModel> {
  const own = data.userModel;
  if (own !== undefined) return () => own.build(seed);
  return modelForData(name, data.train, seed).build;
}
