/** What every CLI command shares: the backend, the data set and its preparation, the model. */
import { selectBackend, type BackendChoice } from '../backend/select.js';
import type * as tfl from '@tensorflow/tfjs-layers';
import { addSymmetricLabelNoise } from '../data/label-noise.js';
import { loadBundledFashionMnist } from '../data/bundled.js';
import { loadCifar10, loadCifar100 } from '../data/cifar.js';
import { loadFashionMnist, loadMnist } from '../data/mnist.js';
import { subsetDataset } from '../data/dataset.js';
import { classBalancedIndices, trainValidationSplit } from '../data/split.js';
import type { ImageDataset } from '../data/types.js';
import type { Examples } from '../data/examples.js';
import { isTextDatasetName, prepareTextData, type TEXT_DATASETS } from '../data/text/prepare.js';
import type { Tokenizer, TokenizerKind } from '../data/text/tokenizer.js';
import type { TrainerData } from '../trainer/trainer.js';
import { modelForData } from '../trainer/workload.js';

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
  /** Text data: columns of text:FILE, tokenizer, vocabulary, tokens per example. */
  textColumn?: string;
  labelColumn?: string;
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

async function loadDataset(options: DataOptions) {
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
  if (isTextDatasetName(options.dataset)) return prepareText(options);
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
    `${options.dataset}: ${train.count} training samples`,
    validation ? `${validation.count} validation` : null,
    `${loaded.test.count} test`,
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
  data: { train: Examples },
  seed: number,
): () => tfl.LayersModel {
  return modelForData(name, data.train, seed).build;
}
