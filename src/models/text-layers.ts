/**
 * Layers for models over token ids: the padding mask of a batch of ids, mean pooling that skips
 * padding, and a token embedding that can also serve as the tied output projection (Press & Wolf
 * 2017). Registered with tfjs' serialization map, so models using them save and load.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs, Shape } from './transformer-layers.js';
import { deriveSeed } from './seeds.js';

function pair(inputs: tf.Tensor | tf.Tensor[], name: string): [tf.Tensor, tf.Tensor] {
  if (!Array.isArray(inputs) || inputs.length !== 2) {
    throw new Error(`${name}: expected two inputs [values, mask].`);
  }
  return [inputs[0] as tf.Tensor, inputs[1] as tf.Tensor];
}

export interface TokenMaskArgs extends LayerArgs {
  /** The id that marks padding. Default 0. */
  padId?: number;
}

/** [batch, length] ids → [batch, length] float mask: 1 for a token, 0 for padding. */
export class TokenMask extends tfl.layers.Layer {
  static className = 'TokenMask';
  readonly padId: number;

  constructor(args: TokenMaskArgs = {}) {
    super(args);
    this.padId = args.padId ?? 0;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const ids = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
      return tf.cast(tf.notEqual(tf.cast(ids, 'int32'), this.padId), 'float32');
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padId: this.padId };
  }
}
tf.serialization.registerClass(TokenMask);

/**
 * [values [batch, length, d], mask [batch, length]] → [batch, d]: the mean of the values at the
 * positions the mask marks 1 (all-zero masks give zeros).
 */
export class MaskedAveragePooling extends tfl.layers.Layer {
  static className = 'MaskedAveragePooling';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [shape[0] ?? null, shape[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [values, mask] = pair(inputs, this.name);
      const weights = tf.expandDims(mask, -1);
      const total = tf.sum(tf.mul(values, weights), 1);
      return tf.div(total, tf.maximum(tf.sum(weights, 1), 1));
    });
  }
}
tf.serialization.registerClass(MaskedAveragePooling);

export interface TokenEmbeddingArgs extends LayerArgs {
  vocabSize: number;
  outputDim: number;
  /** Standard deviation of the normal initialization (GPT-2: 0.02). */
  stddev?: number;
  seed?: number | null;
}

/**
 * A token embedding table E [vocabSize, d] used both ways: applied to ids [batch, length] it
 * returns their rows [batch, length, d]; applied to vectors [batch, length, d] it returns the
 * logits x·Eᵀ [batch, length, vocabSize] (the tied output layer). Apply the same instance twice.
 */
export class TokenEmbedding extends tfl.layers.Layer {
  static className = 'TokenEmbedding';
  readonly vocabSize: number;
  readonly outputDim: number;
  readonly stddev: number;
  readonly seed: number | null;
  private table: tfl.LayerVariable | null = null;

  constructor(args: TokenEmbeddingArgs) {
    super(args);
    this.vocabSize = args.vocabSize;
    this.outputDim = args.outputDim;
    this.stddev = args.stddev ?? 0.02;
    this.seed = args.seed ?? null;
  }

  override build(): void {
    this.table = this.addWeight(
      'embeddings',
      [this.vocabSize, this.outputDim],
      'float32',
      tfl.initializers.randomNormal({
        mean: 0,
        stddev: this.stddev,
        seed: this.seed === null ? undefined : deriveSeed(this.seed, 0),
      }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return shape.length === 2
      ? [...shape, this.outputDim]
      : [...shape.slice(0, -1), this.vocabSize];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
      const table = (this.table as tfl.LayerVariable).read();
      if (x.rank === 2) {
        const ids = tf.reshape(tf.cast(x, 'int32'), [-1]);
        return tf.reshape(tf.gather(table, ids), [...x.shape, this.outputDim]);
      }
      const rows = tf.reshape(x, [-1, this.outputDim]) as tf.Tensor2D;
      // x·Eᵀ with Eᵀ formed explicitly: the gradient of E is then (xᵀ·dy)ᵀ, whose transposes
      // touch [rows, d] and [d, vocabulary], never the [rows, vocabulary] gradient of the logits.
      const logits = tf.matMul(rows, tf.transpose(table as tf.Tensor2D));
      return tf.reshape(logits, [...x.shape.slice(0, -1), this.vocabSize]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      vocabSize: this.vocabSize,
      outputDim: this.outputDim,
      stddev: this.stddev,
      seed: this.seed,
    };
  }
}
tf.serialization.registerClass(TokenEmbedding);
