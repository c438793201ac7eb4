/**
 * Custom tfjs-layers layers for the transformer classifier. They are registered with tfjs'
 * serialization map on import, so models using them round-trip through `model.save` and
 * `tf.loadLayersModel`. Only dense ops (matMul, reshape, transpose, softmax) are used, so they run
 * on every backend, wasm included.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelOptionError } from './options.js';
import { deriveSeed } from './seeds.js';

/** The base arguments of a tfjs-layers layer (name, input shape, …). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;
type LayerVariable = tfl.LayerVariable;
export type Shape = tfl.Shape;

function weightInitializer(seed: number | null, index: number) {
  return tfl.initializers.glorotUniform({
    seed: seed === null ? undefined : deriveSeed(seed, index),
  });
}

/** The first (or only) input of a layer call. */
export function single(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const input = Array.isArray(inputs) ? inputs[0] : inputs;
  if (input === undefined) throw new Error('expected one input tensor, got none');
  return input;
}

/** The first (or only) input shape of a layer. */
export function singleShape(inputShape: Shape | Shape[]): Shape {
  const shape = Array.isArray(inputShape[0]) ? (inputShape[0] as Shape) : (inputShape as Shape);
  return shape;
}

export interface MultiHeadSelfAttentionArgs extends LayerArgs {
  /** Number of attention heads; must divide the model width (the input's last dimension). */
  heads: number;
  /** Seed for deterministic initialization of the projection kernels; null for random. */
  seed?: number | null;
  /** Each position attends only to itself and earlier positions (decoder self-attention). */
  causal?: boolean;
}

/**
 * Multi-head scaled dot-product self-attention (Vaswani et al., "Attention Is All You Need", 2017,
 * §3.2): softmax(Q·Kᵀ/√d_k)·V per head, with learned Q, K, V and output projections (with biases).
 * Input and output are [batch, length, dModel]. A second input, a [batch, length] mask of 1 (token)
 * and 0 (padding), keeps every query from attending to padding keys; `causal` keeps it from
 * attending to later positions. Masked scores get −10⁹ before the softmax.
 */
export class MultiHeadSelfAttention extends tfl.layers.Layer {
  static className = 'MultiHeadSelfAttention';

  readonly heads: number;
  readonly seed: number | null;
  readonly causal: boolean;
  private projections: LayerVariable[] = [];

  constructor(args: MultiHeadSelfAttentionArgs) {
    super(args);
    this.heads = args.heads;
    this.seed = args.seed ?? null;
    this.causal = args.causal ?? false;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const dModel = shape[shape.length - 1];
    if (shape.length !== 3 || dModel == null) {
      throw new Error(
        `${this.name}: expected input of shape [batch, length, dModel], got [${shape.join(', ')}].`,
      );
    }
    if (dModel % this.heads !== 0) {
      throw new ModelOptionError(
        `${this.name}: model width ${dModel} is not divisible by heads = ${this.heads}; choose heads that divide dModel.`,
      );
    }
    const zeros = tfl.initializers.zeros();
    this.projections = ['query', 'key', 'value', 'output'].flatMap((role, i) => [
      this.addWeight(
        `${role}_kernel`,
        [dModel, dModel],
        'float32',
        weightInitializer(this.seed, i),
      ),
      this.addWeight(`${role}_bias`, [dModel], 'float32', zeros),
    ]);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = single(inputs);
      const mask = Array.isArray(inputs) ? (inputs[1] ?? null) : null;
      const [batch = 0, length = 0, dModel = 0] = x.shape;
      const depth = dModel / this.heads;
      const rows = tf.reshape(x, [batch * length, dModel]);
      const project = (input: tf.Tensor, which: number): tf.Tensor => {
        const kernel = this.projections[2 * which]!.read();
        const bias = this.projections[2 * which + 1]!.read();
        return tf.add(tf.matMul(input as tf.Tensor2D, kernel as tf.Tensor2D), bias);
      };
      // [batch·length, dModel] → [batch·heads, length, depth]
      const splitHeads = (t: tf.Tensor): tf.Tensor3D =>
        tf.reshape(tf.transpose(tf.reshape(t, [batch, length, this.heads, depth]), [0, 2, 1, 3]), [
          batch * this.heads,
          length,
          depth,
        ]);
      const query = splitHeads(project(rows, 0));
      const key = splitHeads(project(rows, 1));
      const value = splitHeads(project(rows, 2));
      let scores: tf.Tensor = tf.mul(tf.matMul(query, key, false, true), 1 / Math.sqrt(depth));
      if (mask !== null || this.causal) {
        scores = tf.reshape(scores, [batch, this.heads, length, length]);
        if (mask !== null) {
          // 0 for tokens, −1e9 for padding keys, broadcast over heads and queries.
          const keyBias = tf.mul(tf.sub(tf.cast(mask, 'float32'), 1), 1e9);
          scores = tf.add(scores, tf.reshape(keyBias, [batch, 1, 1, length]));
        }
        if (this.causal) scores = tf.add(scores, causalBias(length));
        scores = tf.reshape(scores, [batch * this.heads, length, length]);
      }
      const context = tf.matMul(tf.softmax(scores), value);
      const merged = tf.reshape(
        tf.transpose(tf.reshape(context, [batch, this.heads, length, depth]), [0, 2, 1, 3]),
        [batch * length, dModel],
      );
      return tf.reshape(project(merged, 3), [batch, length, dModel]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      heads: this.heads,
      seed: this.seed,
      ...(this.causal ? { causal: true } : {}),
    };
  }
}
tf.serialization.registerClass(MultiHeadSelfAttention);

/** [length, length]: 0 on and below the diagonal, −1e9 above it (keys after the query). */
function causalBias(length: number): tf.Tensor2D {
  const values = new Float32Array(length * length);
  for (let query = 0; query < length; query++) {
    for (let key = query + 1; key < length; key++) values[query * length + key] = -1e9;
  }
  return tf.tensor2d(values, [length, length]);
}

export interface PositionEmbeddingArgs extends LayerArgs {
  /** Seed for deterministic initialization; null for random. */
  seed?: number | null;
}

/**
 * Adds a learned embedding per position to a [batch, length, dModel] input, one row of a
 * [length, dModel] table per position (as in BERT; Devlin et al. 2019).
 */
export class PositionEmbedding extends tfl.layers.Layer {
  static className = 'PositionEmbedding';

  readonly seed: number | null;
  private table: LayerVariable | null = null;

  constructor(args: PositionEmbeddingArgs = {}) {
    super(args);
    this.seed = args.seed ?? null;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const [, length, dModel] = shape;
    if (shape.length !== 3 || length == null || dModel == null) {
      throw new Error(
        `${this.name}: expected input of shape [batch, length, dModel] with a fixed length, got [${shape.join(', ')}].`,
      );
    }
    const seed = this.seed === null ? undefined : deriveSeed(this.seed, 0);
    this.table = this.addWeight(
      'embeddings',
      [length, dModel],
      'float32',
      tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.add(single(inputs), this.table!.read()));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), seed: this.seed };
  }
}
tf.serialization.registerClass(PositionEmbedding);
