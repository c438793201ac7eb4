import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  checkFraction,
  checkInputShape,
  checkInteger,
  checkKnownOptions,
  checkSeed,
  ModelOptionError,
} from './options.js';
import { SeededInitializers } from './seeds.js';

export interface WideResNetOptions {
  /** Total depth d; (d − 4) must be divisible by 6 (16, 22, 28, …). */
  depth?: number;
  /** Width multiplier k. */
  widenFactor?: number;
  /** [height, width, channels]. */
  inputShape?: readonly number[];
  classes?: number;
  /** Dropout rate between the two convolutions of each block, in [0, 1). */
  dropout?: number;
  /** Seed for deterministic initialization (and dropout masks). */
  seed?: number;
}

const WRN_OPTION_NAMES = [
  'depth',
  'widenFactor',
  'inputShape',
  'classes',
  'dropout',
  'seed',
] as const;

function conv(
  x: SymbolicTensor,
  filters: number,
  kernelSize: number,
  strides: number,
  init: SeededInitializers,
): SymbolicTensor {
  return tfl.layers
    .conv2d({
      filters,
      kernelSize,
      strides,
      padding: 'same',
      useBias: false,
      kernelInitializer: init.heNormal(),
    })
    .apply(x) as SymbolicTensor;
}

function bnRelu(x: SymbolicTensor): SymbolicTensor {
  const normalized = tfl.layers.batchNormalization().apply(x);
  return tfl.layers.activation({ activation: 'relu' }).apply(normalized) as SymbolicTensor;
}

/**
 * Wide residual network WRN-d-k (Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016):
 * a 3×3 conv with 16 filters, three groups of (d − 4)/6 pre-activation basic blocks
 * (BN-ReLU-conv3×3-BN-ReLU-[dropout]-conv3×3) with 16k, 32k and 64k filters (groups 2 and 3 stride
 * by 2), then BN-ReLU, global average pooling and a dense softmax. When a block changes the shape,
 * the shortcut is a 1×1 strided conv of the pre-activated input, as in the authors' code.
 * WRN-16-4 for 10 classes has 2,752,506 parameters (2.7M in the paper).
 */
export function wideResNet(options: WideResNetOptions = {}): tfl.LayersModel {
  const model = 'wideResNet';
  checkKnownOptions(model, options, WRN_OPTION_NAMES);
  const depth = checkInteger(model, 'depth', options.depth ?? 16, 10);
  if ((depth - 4) % 6 !== 0) {
    const lower = depth - ((depth - 4) % 6);
    throw new ModelOptionError(
      `${model}: option 'depth' is ${depth}, but WRN depth must satisfy (depth − 4) % 6 === 0; use ${lower} or ${lower + 6}.`,
    );
  }
  const widenFactor = checkInteger(model, 'widenFactor', options.widenFactor ?? 4, 1);
  const inputShape = checkInputShape(model, options.inputShape ?? [32, 32, 3], {
    rank: 3,
    meaning: '[height, width, channels]',
  });
  const classes = checkInteger(model, 'classes', options.classes ?? 10, 2);
  const dropout = checkFraction(model, 'dropout', options.dropout ?? 0);
  const init = new SeededInitializers(checkSeed(model, options.seed));
  const blocksPerGroup = (depth - 4) / 6;

  const input = tfl.input({ shape: inputShape });
  let x = conv(input, 16, 3, 1, init);
  let channels = 16;
  [16, 32, 64].forEach((baseWidth, group) => {
    const filters = baseWidth * widenFactor;
    for (let block = 0; block < blocksPerGroup; block++) {
      const strides = group > 0 && block === 0 ? 2 : 1;
      const preactivated = bnRelu(x);
      let residual = bnRelu(conv(preactivated, filters, 3, strides, init));
      if (dropout > 0) {
        residual = tfl.layers
          .dropout({ rate: dropout, seed: init.nextSeed() })
          .apply(residual) as SymbolicTensor;
      }
      residual = conv(residual, filters, 3, 1, init);
      const shortcut =
        strides !== 1 || channels !== filters ? conv(preactivated, filters, 1, strides, init) : x;
      x = tfl.layers.add().apply([residual, shortcut]) as SymbolicTensor;
      channels = filters;
    }
  });
  x = bnRelu(x);
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as SymbolicTensor;
  const output = tfl.layers
    .dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorotUniform() })
    .apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'wide_resnet' });
}
