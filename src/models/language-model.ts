import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import {
  checkTransformerSizes,
  checkBooleanOption,
  checkKnownOptions,
  checkSeed,
} from './options.js';
import { LayerNorm } from './layer-norm.js';
import { SeededInitializers } from './seeds.js';
import { TokenEmbedding } from './text-layers.js';
import { MultiHeadSelfAttention, PositionEmbedding } from './transformer-layers.js';

export interface LanguageModelOptions {
  /** Token ids must lie in [0, vocabSize). */
  vocabSize?: number;
  /** Context length: tokens per input window (the position table has this many rows). */
  seqLength?: number;
  /** Model width; must be divisible by `heads`. */
  dModel?: number;
  heads?: number;
  /** Number of decoder blocks. */
  blocks?: number;
  /** Hidden width of each block's feed-forward network (default 4 × dModel). */
  ffDim?: number;
  /** The output layer is the token embedding transposed (default true) or its own dense layer. */
  tiedOutput?: boolean;
  /** Seed for deterministic initialization. */
  seed?: number;
}

const LM_OPTION_NAMES = [
  'vocabSize',
  'seqLength',
  'dModel',
  'heads',
  'blocks',
  'ffDim',
  'tiedOutput',
  'seed',
] as const;

/**
 * A small decoder-only transformer language model (GPT-2 style; Radford et al. 2019): token +
 * learned position embeddings, `blocks` × pre-LN blocks [x = x + MHSA(LN(x)) with causal
 * attention; x = x + FFN(LN(x)), FFN = dense(ffDim, gelu) → dense(dModel)], a final LN and the
 * output projection to the vocabulary, tied to the token embedding by default.
 * Input: [batch, seqLength] ids; output: [batch, seqLength, vocabSize] logits of the next token at
 * each position (softmax gives its probabilities; train on the softmax cross-entropy from logits
 * of the following ids, e.g. `sparseSoftmaxCrossEntropy`).
 */
export function languageModel(options: LanguageModelOptions = {}): tfl.LayersModel {
  const model = 'languageModel';
  checkKnownOptions(model, options, LM_OPTION_NAMES);
  const { vocabSize, seqLength, dModel, heads, blocks, ffDim } = checkTransformerSizes(
    model,
    options,
    { vocabSize: 8000, seqLength: 128, dModel: 128, heads: 4, blocks: 2, ffDim: (d) => 4 * d },
  );
  const tied = checkBooleanOption(model, 'tiedOutput', options.tiedOutput ?? true);
  const init = new SeededInitializers(checkSeed(model, options.seed));
  const normal = () =>
    tfl.initializers.randomNormal({ mean: 0, stddev: 0.02, seed: init.nextSeed() });
  const layerNorm = () => new LayerNorm({ epsilon: 1e-5 });

  const input = tfl.input({ shape: [seqLength] });
  const embedding = new TokenEmbedding({
    vocabSize,
    outputDim: dModel,
    seed: init.nextSeed() ?? null,
    name: 'token_embedding',
  });
  let x = embedding.apply(input) as SymbolicTensor;
  x = new PositionEmbedding({ seed: init.nextSeed() ?? null }).apply(x) as SymbolicTensor;
  for (let block = 0; block < blocks; block++) {
    const normed = layerNorm().apply(x) as SymbolicTensor;
    const attended = new MultiHeadSelfAttention({
      heads,
      causal: true,
      seed: init.nextSeed() ?? null,
    }).apply(normed) as SymbolicTensor;
    x = tfl.layers.add().apply([x, attended]) as SymbolicTensor;
    let fed = layerNorm().apply(x) as SymbolicTensor;
    fed = tfl.layers
      .dense({ units: ffDim, activation: 'gelu', kernelInitializer: normal() })
      .apply(fed) as SymbolicTensor;
    fed = tfl.layers
      .dense({ units: dModel, kernelInitializer: normal() })
      .apply(fed) as SymbolicTensor;
    x = tfl.layers.add().apply([x, fed]) as SymbolicTensor;
  }
  x = layerNorm().apply(x) as SymbolicTensor;
  const logits = (
    tied
      ? embedding.apply(x)
      : tfl.layers.dense({ units: vocabSize, kernelInitializer: normal() }).apply(x)
  ) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'language_model' });
}
