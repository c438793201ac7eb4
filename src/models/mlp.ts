import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  checkInputShape,
  checkInteger,
  checkKnownOptions,
  checkSeed,
  ModelOptionError,
} from './options.js';
import { SeededInitializers } from './seeds.js';

/** Activations accepted for the hidden layers (tfjs-layers identifiers). */
export const MLP_ACTIVATIONS = [
  'relu',
  'relu6',
  'elu',
  'selu',
  'gelu',
  'swish',
  'mish',
  'tanh',
  'sigmoid',
  'hardSigmoid',
  'softplus',
  'softsign',
  'linear',
] as const;
export type MlpActivation = (typeof MLP_ACTIVATIONS)[number];

export interface MlpOptions {
  /** Shape of one example; inputs of rank > 1 (e.g. [28, 28, 1] images) are flattened first. */
  inputShape?: readonly number[];
  /** Width of each hidden dense layer, in order. An empty list gives multinomial logistic regression. */
  hidden?: readonly number[];
  classes?: number;
  activation?: MlpActivation;
  /** Seed for deterministic initialization. */
  seed?: number;
}

const MLP_OPTION_NAMES = ['inputShape', 'hidden', 'classes', 'activation', 'seed'] as const;

/** Multilayer perceptron: [flatten] → dense(hidden[i], activation)… → dense(classes, softmax). */
export function mlp(options: MlpOptions = {}): tfl.LayersModel {
  checkKnownOptions('mlp', options, MLP_OPTION_NAMES);
  const inputShape = checkInputShape('mlp', options.inputShape ?? [784], {
    meaning: 'features, or an image shape that is flattened',
  });
  const hidden = options.hidden ?? [1024, 1024];
  if (!Array.isArray(hidden)) {
    throw new ModelOptionError(
      `mlp: option 'hidden' is ${String(hidden)}; expected an array of layer widths, e.g. [1024, 1024].`,
    );
  }
  hidden.forEach((width, i) => checkInteger('mlp', `hidden[${i}]`, width, 1));
  const classes = checkInteger('mlp', 'classes', options.classes ?? 10, 2);
  const activation = options.activation ?? 'relu';
  if (!(MLP_ACTIVATIONS as readonly string[]).includes(activation)) {
    throw new ModelOptionError(
      `mlp: option 'activation' is '${String(activation)}'; expected one of ${MLP_ACTIVATIONS.join(', ')}.`,
    );
  }
  const init = new SeededInitializers(checkSeed('mlp', options.seed));

  const input = tfl.input({ shape: inputShape });
  let x: SymbolicTensor = input;
  if (inputShape.length > 1) x = tfl.layers.flatten().apply(x) as SymbolicTensor;
  for (const units of hidden) {
    x = tfl.layers
      .dense({ units, activation, kernelInitializer: init.glorotUniform() })
      .apply(x) as SymbolicTensor;
  }
  const output = tfl.layers
    .dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorotUniform() })
    .apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'mlp' });
}
