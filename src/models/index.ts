/** The model zoo: builders for each model and a registry keyed by short name. */
import type * as tfl from '@tensorflow/tfjs-layers';
import { languageModel, type LanguageModelOptions } from './language-model.js';
import { lstmClassifier, type LstmClassifierOptions } from './lstm-classifier.js';
import { mlp, type MlpOptions } from './mlp.js';
import { ModelOptionError } from './options.js';
import { resnet20, type ResNet20Options } from './resnet20.js';
import { smallCnn, type SmallCnnOptions } from './small-cnn.js';
import {
  transformerClassifier,
  type TransformerClassifierOptions,
} from './transformer-classifier.js';
import { wideResNet, type WideResNetOptions } from './wide-resnet.js';

export {
  languageModel,
  lstmClassifier,
  mlp,
  resnet20,
  smallCnn,
  transformerClassifier,
  wideResNet,
};
export type {
  LanguageModelOptions,
  LstmClassifierOptions,
  MlpOptions,
  ResNet20Options,
  SmallCnnOptions,
  TransformerClassifierOptions,
  WideResNetOptions,
};
export { MLP_ACTIVATIONS, type MlpActivation } from './mlp.js';
export { ModelOptionError } from './options.js';
export {
  MultiHeadSelfAttention,
  PositionEmbedding,
  type LayerArgs,
  type MultiHeadSelfAttentionArgs,
  type PositionEmbeddingArgs,
  type Shape,
} from './transformer-layers.js';
export {
  MaskedAveragePooling,
  TokenEmbedding,
  TokenMask,
  type TokenEmbeddingArgs,
  type TokenMaskArgs,
} from './text-layers.js';

/** Options of each registered model, by registry name. */
export interface ModelOptionsByName {
  mlp: MlpOptions;
  cnn: SmallCnnOptions;
  resnet20: ResNet20Options;
  wrn: WideResNetOptions;
  lstm: LstmClassifierOptions;
  transformer: TransformerClassifierOptions;
}
export type ModelName = keyof ModelOptionsByName;

const BUILDERS: { [N in ModelName]: (options: ModelOptionsByName[N]) => tfl.LayersModel } = {
  mlp,
  cnn: smallCnn,
  resnet20,
  wrn: wideResNet,
  lstm: lstmClassifier,
  transformer: transformerClassifier,
};

export const MODEL_NAMES = Object.keys(BUILDERS) as readonly ModelName[];

/** Options of any registered model. */
export type ModelOptions = ModelOptionsByName[ModelName];

/**
 * Builds the model registered as `name`. Options are validated by the model's builder; an unknown
 * name or option, or a value out of range, throws a {@link ModelOptionError} saying what to use.
 * The second signature takes a name only known at run time (e.g. from a command line).
 */
export function buildModel<N extends ModelName>(
  name: N,
  options?: ModelOptionsByName[N],
): tfl.LayersModel;
export function buildModel(name: string, options?: ModelOptions): tfl.LayersModel;
export function buildModel(name: string, options: ModelOptions = {}): tfl.LayersModel {
  if (!Object.hasOwn(BUILDERS, name)) {
    throw new ModelOptionError(
      `unknown model '${name}'; expected one of ${MODEL_NAMES.join(', ')}` +
        (isLanguageModelName(name)
          ? ` ('${name}' is a language model: use buildLanguageModel).`
          : '.'),
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new ModelOptionError(
      `options for model '${name}' must be an object, got ${String(options)}.`,
    );
  }
  const build = BUILDERS[name as ModelName] as (options: ModelOptions) => tfl.LayersModel;
  return build(options);
}

/** Options of each registered language model (next-token prediction), by registry name. */
export interface LanguageModelOptionsByName {
  lm: LanguageModelOptions;
}
export type LanguageModelName = keyof LanguageModelOptionsByName;

const LANGUAGE_MODEL_BUILDERS: {
  [N in LanguageModelName]: (options: LanguageModelOptionsByName[N]) => tfl.LayersModel;
} = { lm: languageModel };

/** The language models, kept apart from the classifiers of {@link MODEL_NAMES}. */
export const LANGUAGE_MODEL_NAMES = Object.keys(
  LANGUAGE_MODEL_BUILDERS,
) as readonly LanguageModelName[];

export function isLanguageModelName(name: string): name is LanguageModelName {
  return Object.hasOwn(LANGUAGE_MODEL_BUILDERS, name);
}

/** Builds the language model registered as `name` (an unknown name throws, listing the known ones). */
export function buildLanguageModel(
  name: string,
  options: LanguageModelOptions = {},
): tfl.LayersModel {
  if (!isLanguageModelName(name)) {
    throw new ModelOptionError(
      `unknown language model '${name}'; expected one of ${LANGUAGE_MODEL_NAMES.join(', ')}.`,
    );
  }
  return LANGUAGE_MODEL_BUILDERS[name](options);
}
