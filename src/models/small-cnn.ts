import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { checkInputShape, checkInteger, checkKnownOptions, checkSeed } from './options.js';
import { SeededInitializers } from './seeds.js';

export interface SmallCnnOptions {
  /** [height, width, channels]; height and width must be at least 10 (valid padding shrinks them). */
  inputShape?: readonly number[];
  classes?: number;
  /** Seed for deterministic initialization. */
  seed?: number;
}

const SMALL_CNN_OPTION_NAMES = ['inputShape', 'classes', 'seed'] as const;

/**
 * The classic Keras MNIST CNN: conv32(3×3, relu) → maxpool(2) → conv64(3×3, relu) → maxpool(2) →
 * flatten → dense128(relu) → dense(classes, softmax). Convolutions use 'valid' padding, so a
 * 28×28 input becomes 26 → 13 → 11 → 5, and 5·5·64 = 1,600 features reach the dense layer.
 */
export function smallCnn(options: SmallCnnOptions = {}): tfl.LayersModel {
  checkKnownOptions('smallCnn', options, SMALL_CNN_OPTION_NAMES);
  const inputShape = checkInputShape('smallCnn', options.inputShape ?? [28, 28, 1], {
    rank: 3,
    minSpatialSize: 10,
    meaning: '[height, width, channels]',
  });
  const classes = checkInteger('smallCnn', 'classes', options.classes ?? 10, 2);
  const init = new SeededInitializers(checkSeed('smallCnn', options.seed));

  const input = tfl.input({ shape: inputShape });
  let x: SymbolicTensor = input;
  for (const filters of [32, 64]) {
    x = tfl.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'valid',
        activation: 'relu',
        kernelInitializer: init.glorotUniform(),
      })
      .apply(x) as SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as SymbolicTensor;
  }
  x = tfl.layers.flatten().apply(x) as SymbolicTensor;
  x = tfl.layers
    .dense({ units: 128, activation: 'relu', kernelInitializer: init.glorotUniform() })
    .apply(x) as SymbolicTensor;
  const output = tfl.layers
    .dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorotUniform() })
    .apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'small_cnn' });
}
