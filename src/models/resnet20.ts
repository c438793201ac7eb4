import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { checkInputShape, checkInteger, checkKnownOptions, checkSeed } from './options.js';
import { SeededInitializers } from './seeds.js';

export interface ResNet20Options {
  /** [height, width, channels]. */
  inputShape?: readonly number[];
  classes?: number;
  /** Seed for deterministic initialization. */
  seed?: number;
}

const RESNET20_OPTION_NAMES = ['inputShape', 'classes', 'seed'] as const;

const STAGE_FILTERS = [16, 32, 64] as const;
const BLOCKS_PER_STAGE = 3;

function convBn(
  x: SymbolicTensor,
  filters: number,
  kernelSize: number,
  strides: number,
  init: SeededInitializers,
): SymbolicTensor {
  const conv = tfl.layers.conv2d({
    filters,
    kernelSize,
    strides,
    padding: 'same',
    useBias: false,
    kernelInitializer: init.heNormal(),
  });
  return tfl.layers.batchNormalization().apply(conv.apply(x)) as SymbolicTensor;
}

function relu(x: SymbolicTensor): SymbolicTensor {
  return tfl.layers.activation({ activation: 'relu' }).apply(x) as SymbolicTensor;
}

/**
 * ResNet-20 for CIFAR (He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, §4.2):
 * a 3×3 conv with 16 filters, then 3 stages × 3 basic blocks (two 3×3 conv-BN, post-activation) with
 * 16, 32 and 64 filters, the first block of stages 2 and 3 striding by 2, then global average pooling
 * and a dense softmax. Where the shape changes, the shortcut is a 1×1 strided conv + BN projection
 * (the paper's option B; its CIFAR experiments used the parameter-free option A), which adds 2,944
 * parameters: 274,042 in total for 10 classes (the paper quotes 0.27M).
 */
export function resnet20(options: ResNet20Options = {}): tfl.LayersModel {
  checkKnownOptions('resnet20', options, RESNET20_OPTION_NAMES);
  const inputShape = checkInputShape('resnet20', options.inputShape ?? [32, 32, 3], {
    rank: 3,
    meaning: '[height, width, channels]',
  });
  const classes = checkInteger('resnet20', 'classes', options.classes ?? 10, 2);
  const init = new SeededInitializers(checkSeed('resnet20', options.seed));

  const input = tfl.input({ shape: inputShape });
  let x = relu(convBn(input, STAGE_FILTERS[0], 3, 1, init));
  let channels: number = STAGE_FILTERS[0];
  STAGE_FILTERS.forEach((filters, stage) => {
    for (let block = 0; block < BLOCKS_PER_STAGE; block++) {
      const strides = stage > 0 && block === 0 ? 2 : 1;
      const residual = convBn(relu(convBn(x, filters, 3, strides, init)), filters, 3, 1, init);
      const shortcut =
        strides !== 1 || channels !== filters ? convBn(x, filters, 1, strides, init) : x;
      x = relu(tfl.layers.add().apply([residual, shortcut]) as SymbolicTensor);
      channels = filters;
    }
  });
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as SymbolicTensor;
  const output = tfl.layers
    .dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorotUniform() })
    .apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'resnet20' });
}
