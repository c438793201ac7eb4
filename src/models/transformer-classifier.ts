import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  checkTransformerSizes,
  checkBooleanOption,
  checkInteger,
  checkKnownOptions,
  checkSeed,
} from './options.js';
import { MaskedAveragePooling, TokenMask } from './text-layers.js';
import { SeededInitializers } from './seeds.js';
import { LayerNorm } from './layer-norm.js';
import { MultiHeadSelfAttention, PositionEmbedding } from './transformer-layers.js';

export interface TransformerClassifierOptions {
  /** Token ids must lie in [0, vocabSize). */
  vocabSize?: number;
  /** Fixed sequence length of the input (the position table has this many rows). */
  seqLength?: number;
  /** Model width; must be divisible by `heads`. */
  dModel?: number;
  heads?: number;
  /** Number of encoder blocks. */
  blocks?: number;
  /** Hidden width of each block's feed-forward network. */
  ffDim?: number;
  classes?: number;
  /**
   * Treat id 0 as padding: attention never attends to it and the pooling averages only the other
   * positions. Default false (every id is a token, as for rows of images).
   */
  maskPadding?: boolean;
  /** Seed for deterministic initialization. */
  seed?: number;
}

const TRANSFORMER_OPTION_NAMES = [
  'vocabSize',
  'seqLength',
  'dModel',
  'heads',
  'blocks',
  'ffDim',
  'classes',
  'maskPadding',
  'seed',
] as const;

/**
 * Transformer-encoder sequence classifier (Vaswani et al. 2017, post-LN encoder blocks): token
 * embedding + learned position embedding, then `blocks` × [x = LN(x + MHSA(x)); x = LN(x + FFN(x))]
 * with FFN = dense(ffDim, relu) → dense(dModel), then mean pooling over positions and a dense
 * softmax. With `maskPadding`, padding (id 0) is masked out of attention and pooling. Input: [batch, seqLength] token ids (any numeric dtype; cast to int32 by the embedding).
 */
export function transformerClassifier(options: TransformerClassifierOptions = {}): tfl.LayersModel {
  const model = 'transformerClassifier';
  checkKnownOptions(model, options, TRANSFORMER_OPTION_NAMES);
  const { vocabSize, seqLength, dModel, heads, blocks, ffDim } = checkTransformerSizes(
    model,
    options,
    { vocabSize: 10000, seqLength: 128, dModel: 128, heads: 4, blocks: 2, ffDim: () => 256 },
  );
  const classes = checkInteger(model, 'classes', options.classes ?? 2, 2);
  const maskPadding = checkBooleanOption(model, 'maskPadding', options.maskPadding ?? false);
  const init = new SeededInitializers(checkSeed(model, options.seed));

  const input = tfl.input({ shape: [seqLength] });
  const mask = maskPadding ? (new TokenMask({ padId: 0 }).apply(input) as SymbolicTensor) : null;
  let x = tfl.layers
    .embedding({
      inputDim: vocabSize,
      outputDim: dModel,
      embeddingsInitializer: init.embeddingUniform(),
    })
    .apply(input) as SymbolicTensor;
  x = new PositionEmbedding({ seed: init.nextSeed() ?? null }).apply(x) as SymbolicTensor;
  for (let block = 0; block < blocks; block++) {
    const attended = new MultiHeadSelfAttention({ heads, seed: init.nextSeed() ?? null }).apply(
      mask === null ? x : [x, mask],
    );
    x = tfl.layers.add().apply([x, attended as SymbolicTensor]) as SymbolicTensor;
    x = new LayerNorm({ epsilon: 1e-6 }).apply(x) as SymbolicTensor;
    let fed = tfl.layers
      .dense({ units: ffDim, activation: 'relu', kernelInitializer: init.glorotUniform() })
      .apply(x) as SymbolicTensor;
    fed = tfl.layers
      .dense({ units: dModel, kernelInitializer: init.glorotUniform() })
      .apply(fed) as SymbolicTensor;
    x = tfl.layers.add().apply([x, fed]) as SymbolicTensor;
    x = new LayerNorm({ epsilon: 1e-6 }).apply(x) as SymbolicTensor;
  }
  x = (
    mask === null
      ? tfl.layers.globalAveragePooling1d().apply(x)
      : new MaskedAveragePooling({}).apply([x, mask])
  ) as SymbolicTensor;
  const output = tfl.layers
    .dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorotUniform() })
    .apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'transformer_classifier' });
}
