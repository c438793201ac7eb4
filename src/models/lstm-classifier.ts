import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import { checkBooleanOption, checkInteger, checkKnownOptions, checkSeed } from './options.js';
import { SeededInitializers } from './seeds.js';

export interface LstmClassifierOptions {
  /** Token ids must lie in [0, vocabSize). */
  vocabSize?: number;
  seqLength?: number;
  embedDim?: number;
  /** LSTM state width. */
  units?: number;
  classes?: number;
  /**
   * Treat id 0 as padding: the LSTM skips padded steps (its state passes through unchanged), so
   * the last state is the one after the last token. Default false.
   */
  maskPadding?: boolean;
  /** Seed for deterministic initialization. */
  seed?: number;
}

const LSTM_OPTION_NAMES = [
  'vocabSize',
  'seqLength',
  'embedDim',
  'units',
  'classes',
  'maskPadding',
  'seed',
] as const;

/**
 * Sequence classifier: embedding → LSTM (last state; Hochreiter & Schmidhuber 1997) → dense softmax.
 * Input: [batch, seqLength] token ids (any numeric dtype; cast to int32 by the embedding).
 */
export function lstmClassifier(options: LstmClassifierOptions = {}): tfl.LayersModel {
  const model = 'lstmClassifier';
  checkKnownOptions(model, options, LSTM_OPTION_NAMES);
  const vocabSize = checkInteger(model, 'vocabSize', options.vocabSize ?? 10000, 2);
  const seqLength = checkInteger(model, 'seqLength', options.seqLength ?? 128, 1);
  const embedDim = checkInteger(model, 'embedDim', options.embedDim ?? 64, 1);
  const units = checkInteger(model, 'units', options.units ?? 64, 1);
  const classes = checkInteger(model, 'classes', options.classes ?? 2, 2);
  const maskPadding = checkBooleanOption(model, 'maskPadding', options.maskPadding ?? false);
  const init = new SeededInitializers(checkSeed(model, options.seed));

  const input = tfl.input({ shape: [seqLength] });
  let x = tfl.layers
    .embedding({
      inputDim: vocabSize,
      outputDim: embedDim,
      embeddingsInitializer: init.embeddingUniform(),
      maskZero: maskPadding,
    })
    .apply(input) as SymbolicTensor;
  // The Keras default recurrent initializer, 'orthogonal', calls chained tensor methods that a
  // tfjs-core-only install lacks, so the recurrent kernel is Glorot-uniform like the input kernel.
  x = tfl.layers
    .lstm({
      units,
      kernelInitializer: init.glorotUniform(),
      recurrentInitializer: init.glorotUniform(),
    })
    .apply(x) as SymbolicTensor;
  const output = tfl.layers
    .dense({ units: classes, activation: 'softmax', kernelInitializer: init.glorotUniform() })
    .apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: output, name: 'lstm_classifier' });
}
