/**
 * The flags commands share: the training flags of compare/train/sweep (data, model, budget,
 * optimizer hyperparameters, output) and the data flags of the diagnostics of saved models, with
 * their parsers.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AugmentOptions } from 'tfjs-sam/data';
import type { CommonHyperparameters } from 'tfjs-sam/toolkit';
import {
  isTextDatasetName,
  TEXT_DATASETS,
  TOKENIZER_KINDS,
  type TokenizerKind,
} from 'tfjs-sam/text';
import { datasetKind, TRAINING_DEFAULTS } from 'tfjs-sam/trainer';
import { DATA_FORMATS } from './data/user-data.js';
import { BACKENDS, DATASETS, type DatasetName } from './setup.js';

/** The text flags of a run on `--dataset spam-assassin|sotu|text:FILE`. */
export interface TextFlags {
  textColumn?: string;
  labelColumn?: string;
  vocabSize?: number;
  seqLen?: number;
  tokenizer: TokenizerKind;
}

export interface CommonFlags extends TextFlags {
  dataset: DatasetName;
  dataDir?: string;
  data?: string;
  testData?: string;
  labelColumn?: string;
  trainSubset?: number;
  labelNoise: number;
  validation: number;
  /** Seed of the training subset, the validation split and the label noise. */
  dataSeed: number;
  /** Filled in from the data's defaults (applyDataDefaults) when not given. */
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  momentum: number;
  weightDecay: number;
  base: string;
  rho?: number;
  schedule: 'constant' | 'cosine' | 'step';
  warmupEpochs: number;
  labelSmoothing: number;
  mSharpness: number;
  accumulate: number;
  sharpnessEpochs?: { from?: number; to?: number };
  workers: number;
  augment?: string;
  backend: string;
  out?: string;
  resume: boolean;
  restart: boolean;
  progress: boolean;
}

export function numberIn(name: string, min: number, max = Infinity, integer = false) {
  return (text: string): number => {
    const value = Number(text);
    if (
      !Number.isFinite(value) ||
      value < min ||
      value > max ||
      (integer && !Number.isInteger(value))
    ) {
      const range = max === Infinity ? `>= ${min}` : `in [${min}, ${max}]`;
      throw new InvalidArgumentError(
        `${name} is '${text}'; expected ${integer ? 'an integer' : 'a number'} ${range}.`,
      );
    }
    return value;
  };
}

/** `from:to`, `from:` or `:to` (1-based epochs, inclusive). */
export function epochWindow(text: string): { from?: number; to?: number } {
  const match = /^\s*(\d*)\s*:\s*(\d*)\s*$/.exec(text);
  const [from, to] = [match?.[1], match?.[2]].map((part) =>
    part === undefined || part === '' ? undefined : Number(part),
  );
  if (
    match === null ||
    (from === undefined && to === undefined) ||
    (from ?? 1) < 1 ||
    (to !== undefined && to < (from ?? 1))
  ) {
    throw new InvalidArgumentError(
      `--sharpness-epochs is '${text}'; expected from:to with 1 <= from <= to (e.g. 11:60, 11: or :10).`,
    );
  }
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

export function numberList(name: string, min: number, integer = false) {
  return (text: string): number[] =>
    text.split(',').map((part) => numberIn(name, min, Infinity, integer)(part.trim()));
}

export function parseAugment(text: string | undefined): AugmentOptions | null {
  if (text === undefined || text === 'none') return null;
  const options: AugmentOptions = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const [name, value] = part.split('=');
    if (name === 'crop')
      options.padding = value === undefined ? 4 : numberIn('--augment crop', 1, 64, true)(value);
    else if (name === 'flip') options.flip = true;
    else if (name === 'cutout')
      options.cutout = value === undefined ? 8 : numberIn('--augment cutout', 1, 64, true)(value);
    else
      throw new InvalidArgumentError(
        `--augment part '${part}' is not one of crop[=pad], flip, cutout[=size], none.`,
      );
  }
  return options;
}

/** --dataset: an image set, a text corpus, or text:FILE (CSV/JSONL) / text:FOLDER (.txt files). */
export function datasetName(text: string): DatasetName {
  if ((DATASETS as readonly string[]).includes(text) || isTextDatasetName(text)) {
    return text as DatasetName;
  }
  throw new InvalidArgumentError(
    `--dataset is '${text}'; expected one of ${[...DATASETS, ...TEXT_DATASETS].join(', ')}, or text:FILE.csv|FILE.jsonl (your labelled texts) or text:FOLDER (.txt files for a language model).`,
  );
}

const DATASET_HELP = `data set: ${[...DATASETS, ...TEXT_DATASETS].join(', ')}, text:FILE (CSV/JSONL) or text:FOLDER`;

/** The text flags: columns of the user's file, tokenizer, vocabulary, tokens per example. */
export function addTextOptions(command: Command): Command {
  return command
    .option('--text-column <name>', 'text:FILE: the column (or JSON key) of the text', 'text')
    .option(
      '--label-column <name>',
      'the label column (or JSON key) of --data CSV or JSON Lines (a name or a 0-based index; default: label, else the last) and of text:FILE (default: label)',
    )
    .addOption(
      new Option(
        '--tokenizer <kind>',
        'text: word level or byte-pair encoding, fitted on the training split',
      )
        .choices([...TOKENIZER_KINDS])
        .default('word'),
    )
    .option(
      '--vocab-size <n>',
      'text: vocabulary size (default 10000 for word-level classification, 8000 for a word-level language model, 4000 for bpe)',
      numberIn('--vocab-size', 4, Infinity, true),
    )
    .option(
      '--seq-len <n>',
      'text: tokens per text (longer ones are cut) or context length of the language model (default 128)',
      numberIn('--seq-len', 1, Infinity, true),
    );
}

/**
 * Fills the flags left out with the defaults of the data's kind (images: cnn, momentum, lr 0.05,
 * weight decay 5e-4, 'sgd,sam'; text: transformer or lm, AdamW, lr 1e-3, weight decay 0.01,
 * 'adamw,sam'); returns the optimizer list to compare when none was given.
 */
export function applyDataDefaults(flags: Partial<CommonFlags> & { dataset: DatasetName }): string {
  const defaults = TRAINING_DEFAULTS[datasetKind(flags.dataset)];
  flags.model ??= defaults.model;
  flags.base ??= defaults.base;
  flags.lr ??= defaults.learningRate;
  flags.weightDecay ??= defaults.weightDecay;
  return defaults.optimizers;
}

export function addCommonOptions(command: Command): Command {
  return addTextOptions(command)
    .option('--dataset <name>', DATASET_HELP, datasetName, 'fashion-mnist-mini')
    .option(
      '--data-dir <dir>',
      'folder of the data set files (Fashion-MNIST: found automatically after apt-get install dataset-fashion-mnist)',
    )
    .option('--data <path>', `your training data, in place of --dataset: ${DATA_FORMATS}`)
    .option('--test-data <path>', 'your test data, in the format of --data (evaluated each epoch)')
    .option(
      '--train-subset <n>',
      'train on this many samples (class-balanced, seeded)',
      numberIn('--train-subset', 10, Infinity, true),
    )
    .option(
      '--label-noise <fraction>',
      'fraction of training labels flipped to another class (test labels stay clean)',
      numberIn('--label-noise', 0, 0.99),
      0,
    )
    .option(
      '--validation <fraction>',
      'fraction of the training set held out for validation',
      numberIn('--validation', 0, 0.9),
      0,
    )
    .option(
      '--data-seed <n>',
      'seed of the training subset, the validation split and the label noise: every run and seed of a command, and every command with the same --data-seed, trains on the same data',
      numberIn('--data-seed', 0, Infinity, true),
      1,
    )
    .option(
      '--model <name|file>',
      'images: mlp, cnn (default), resnet20, wrn, lstm, transformer; texts: transformer (default), lstm; language model: lm (default); or your tfjs-layers model.json (with weights: each seed starts from them; without: a fresh seeded initialization per seed)',
    )
    .option('--epochs <n>', 'epochs', numberIn('--epochs', 1, Infinity, true), 1)
    .option('--batch-size <n>', 'batch size', numberIn('--batch-size', 1, Infinity, true), 128)
    .option(
      '--lr <rate>',
      'peak learning rate (default 0.05 for images, 1e-3 for text)',
      numberIn('--lr', 0),
    )
    .option('--momentum <m>', 'momentum of the momentum base', numberIn('--momentum', 0, 1), 0.9)
    .option(
      '--weight-decay <wd>',
      'weight decay (coupled L2 for sgd/momentum/adam, decoupled for adamw; default 5e-4 for images, 0.01 for text)',
      numberIn('--weight-decay', 0),
    )
    .addOption(
      new Option(
        '--base <name>',
        'base optimizer of the SAM family (default momentum for images, adamw for text)',
      ).choices(['momentum', 'sgd', 'adam', 'adamw', 'rmsprop']),
    )
    .option(
      '--rho <rho>',
      'neighbourhood radius for the SAM family (each method has its own default)',
      numberIn('--rho', 0),
    )
    .addOption(
      new Option('--schedule <kind>', 'learning-rate schedule')
        .choices(['cosine', 'constant', 'step'])
        .default('cosine'),
    )
    .option(
      '--warmup-epochs <n>',
      'linear warm-up epochs',
      numberIn('--warmup-epochs', 0, Infinity, true),
      0,
    )
    .option('--label-smoothing <eps>', 'label smoothing', numberIn('--label-smoothing', 0, 0.99), 0)
    .option(
      '--m-sharpness <m>',
      'm-sharpness: one perturbation per part of each batch, m parts (the methods whose step supports it: see tfjs-sam methods)',
      numberIn('--m-sharpness', 1, Infinity, true),
      1,
    )
    .option(
      '--workers <n>',
      'data-parallel steps on n threads (main + n − 1 workers); plain optimizers and the methods whose step supports it (tfjs-sam methods), as m-sharpness with m = n',
      numberIn('--workers', 1, 64, true),
      1,
    )
    .option(
      '--accumulate <k>',
      'gradient accumulation: k micro-batches of --batch-size per step (an effective batch of k × batch size)',
      numberIn('--accumulate', 1, Infinity, true),
      1,
    )
    .option(
      '--sharpness-epochs <from:to>',
      'sharpness-aware steps only in these epochs (1-based, inclusive, e.g. 11:60 or 11:); the others take the base step',
      epochWindow,
    )
    .option('--augment <list>', 'crop[=pad],flip,cutout[=size] or none')
    .addOption(
      new Option('--backend <name>', 'tfjs backend').choices([...BACKENDS]).default('wasm'),
    )
    .option('--out <dir>', 'output folder (default runs/<command>-<time>)')
    .option('--resume', 'continue the runs in --out from their checkpoints', false)
    .addOption(
      new Option(
        '--restart',
        'discard the runs in --out (checkpoints and logs) and train them from the start',
      )
        .default(false)
        .conflicts('resume'),
    )
    .option('--no-progress', 'no progress bar or per-epoch lines');
}

/** The optimizer hyperparameters the common flags set. */
export function hyperparameters(flags: CommonFlags): CommonHyperparameters {
  return {
    learningRate: flags.lr,
    momentum: flags.momentum,
    weightDecay: flags.weightDecay,
    base: flags.base,
    ...(flags.rho === undefined ? {} : { rho: flags.rho }),
  };
}

/** The data flags of `sharpness` and `landscape`: the data a saved model is measured on. */
export interface DiagnosticDataFlags extends TextFlags {
  dataset: DatasetName;
  dataDir?: string;
  data?: string;
  testData?: string;
  labelColumn?: string;
  trainSubset?: number;
  labelNoise: number;
  dataSeed: number;
  split: 'train' | 'test';
  samples: number;
  backend: string;
}

export function positiveInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} is '${text}'; expected an integer >= 1.`);
    }
    return value;
  };
}

export function positiveNumber(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`${name} is '${text}'; expected a number > 0.`);
    }
    return value;
  };
}

export function fraction(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || value >= 1) {
      throw new Error(`${name} is '${text}'; expected a number in [0, 1).`);
    }
    return value;
  };
}

export function addDataOptions(command: Command): Command {
  return addTextOptions(command)
    .option('--dataset <name>', DATASET_HELP, datasetName, 'fashion-mnist-mini')
    .option('--data-dir <dir>', 'folder of the data set files')
    .option('--data <path>', `your training data, in place of --dataset: ${DATA_FORMATS}`)
    .option('--test-data <path>', 'your test data, in the format of --data (evaluated each epoch)')
    .option(
      '--train-subset <n>',
      'the training subset the model was trained on (as given to compare/train)',
      positiveInteger('--train-subset'),
    )
    .option(
      '--label-noise <fraction>',
      'the label noise the model was trained with (the noisy training labels are rebuilt exactly)',
      fraction('--label-noise'),
      0,
    )
    .option(
      '--data-seed <n>',
      "the run's --data-seed (default 1; runs made before --data-seed drew their data from the first of their --seeds)",
      positiveInteger('--data-seed'),
      1,
    )
    .addOption(
      new Option('--split <name>', 'which split to measure on')
        .choices(['train', 'test'])
        .default('train'),
    )
    .option(
      '--samples <n>',
      'samples measured (seeded subset of the split)',
      positiveInteger('--samples'),
      1000,
    )
    .addOption(
      new Option('--backend <name>', 'tfjs backend').choices([...BACKENDS]).default('wasm'),
    );
}
