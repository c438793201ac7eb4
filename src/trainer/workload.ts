/**
 * What a training run needs besides its optimizer, decided from its data: the kind of data
 * (images, text to classify, text to model), the defaults that go with it (model, base optimizer,
 * learning rate, weight decay, the optimizers compared), and the model of the zoo built for it.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { examplesTask, isImageDataset, outputClasses, type Examples } from '../data/examples.js';
import {
  buildLanguageModel,
  buildModel,
  isLanguageModelName,
  LANGUAGE_MODEL_NAMES,
  MODEL_NAMES,
  ModelOptionError,
} from '../models/index.js';
import type { ModelSpec } from '../parallel/index.js';
import { isTextDatasetName, textTask } from '../data/text/prepare.js';

export type DataKind = 'images' | 'text-classification' | 'language-model';

export function dataKind(examples: Examples): DataKind {
  if (isImageDataset(examples)) return 'images';
  return examplesTask(examples) === 'next-token' ? 'language-model' : 'text-classification';
}

/** The kind of data a dataset name gives, known before loading it (text names: tfjs-sam/text). */
export function datasetKind(name: string): DataKind {
  if (!isTextDatasetName(name)) return 'images';
  return textTask(name) === 'language-model' ? 'language-model' : 'text-classification';
}

export interface TrainingDefaults {
  model: string;
  /** Base optimizer of the SAM family. */
  base: string;
  learningRate: number;
  weightDecay: number;
  /** The optimizers a comparison runs when none are named. */
  optimizers: string;
}

/**
 * Images: SGD momentum 0.05 with weight decay 5e-4 (the SAM papers' vision setting); text: AdamW
 * 1e-3 with decoupled weight decay 0.01, the usual choice for transformers and language models,
 * compared with SAM over AdamW.
 */
export const TRAINING_DEFAULTS: Readonly<Record<DataKind, TrainingDefaults>> = {
  images: {
    model: 'cnn',
    base: 'momentum',
    learningRate: 0.05,
    weightDecay: 5e-4,
    optimizers: 'sgd,sam',
  },
  'text-classification': {
    model: 'transformer',
    base: 'adamw',
    learningRate: 1e-3,
    weightDecay: 0.01,
    optimizers: 'adamw,sam',
  },
  'language-model': {
    model: 'lm',
    base: 'adamw',
    learningRate: 1e-3,
    weightDecay: 0.01,
    optimizers: 'adamw,sam',
  },
};

const TEXT_CLASSIFIERS = ['transformer', 'lstm'] as const;

export interface ModelForData {
  build: () => tfl.LayersModel;
  /** The zoo spec data-parallel workers rebuild; null for a language model. */
  spec: ModelSpec | null;
}

/**
 * The model `name` shaped for `examples` (images: their shape and classes; token rows: vocabulary,
 * length, classes, padding masked; next-token windows: vocabulary and context), seeded. Refuses a
 * model that cannot read the data, naming the ones that can.
 */
export function modelForData(name: string, examples: Examples, seed: number): ModelForData {
  const kind = dataKind(examples);
  if (kind === 'language-model') {
    if (!isLanguageModelName(name)) {
      throw new ModelOptionError(
        `model '${name}' is a classifier, but the data are text for a language model (next-token windows); use --model ${LANGUAGE_MODEL_NAMES.join(' or ')}.`,
      );
    }
    const windows = examples as Extract<Examples, { kind: 'next-token' }>;
    const options = { vocabSize: windows.vocabSize, seqLength: windows.seqLength, seed };
    return { build: () => buildLanguageModel(name, options), spec: null };
  }
  if (kind === 'text-classification') {
    if (!(TEXT_CLASSIFIERS as readonly string[]).includes(name)) {
      throw new ModelOptionError(
        `model '${name}' ${isLanguageModelName(name) ? 'is a language model' : 'reads images'}, but the data are texts to classify; use --model ${TEXT_CLASSIFIERS.join(' or ')}.`,
      );
    }
    const rows = examples as Extract<Examples, { kind: 'tokens' }>;
    const options = {
      vocabSize: rows.vocabSize,
      seqLength: rows.seqLength,
      classes: outputClasses(rows),
      maskPadding: true,
      seed,
    };
    const spec = { name, options } as ModelSpec;
    return { build: () => buildModel(name, options), spec };
  }
  if (!(MODEL_NAMES as readonly string[]).includes(name) || isLanguageModelName(name)) {
    throw new ModelOptionError(
      `model '${name}' cannot read images; use one of ${MODEL_NAMES.join(', ')}.`,
    );
  }
  const images = examples as Extract<Examples, { shape: unknown }>;
  const options = { inputShape: images.shape, classes: images.classes, seed };
  return { build: () => buildModel(name, options), spec: { name, options } as ModelSpec };
}
