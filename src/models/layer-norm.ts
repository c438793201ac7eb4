import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { layerNorm } from '../math/layer-norm.js';
import { single, singleShape, type LayerArgs, type Shape } from './transformer-layers.js';

type Initializer = ReturnType<typeof tfl.initializers.ones>;

export interface LayerNormArgs extends LayerArgs {
  /** Added to the variance (default 1e-3, as tfjs-layers' LayerNormalization). */
  epsilon?: number;
  /** Initial scale (default ones) and offset (default zeros); used when the layer is built. */
  gammaInitializer?: Initializer;
  betaInitializer?: Initializer;
}

/**
 * Layer normalization over the last axis with a learned scale (gamma, ones) and offset (beta,
 * zeros): tfjs-layers' LayerNormalization for axis −1, computed by `layerNorm` (one fused
 * gradient instead of the batch-norm chain; same values to float32 rounding).
 */
export class LayerNorm extends tfl.layers.Layer {
  static className = 'LayerNorm';

  readonly epsilon: number;
  private readonly gammaInitializer: Initializer;
  private readonly betaInitializer: Initializer;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;

  constructor(args: LayerNormArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-3;
    if (!(this.epsilon > 0)) {
      throw new Error(`${this.name}: epsilon is ${this.epsilon}; expected a number > 0.`);
    }
    this.gammaInitializer = args.gammaInitializer ?? tfl.initializers.ones();
    this.betaInitializer = args.betaInitializer ?? tfl.initializers.zeros();
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = singleShape(inputShape);
    const size = shape[shape.length - 1];
    if (size == null) {
      throw new Error(
        `${this.name}: the last axis of the input must have a fixed size, got [${shape.join(', ')}].`,
      );
    }
    this.gamma = this.addWeight('gamma', [size], 'float32', this.gammaInitializer);
    this.beta = this.addWeight('beta', [size], 'float32', this.betaInitializer);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return singleShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      return layerNorm(single(inputs), this.gamma!.read(), this.beta!.read(), this.epsilon);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(LayerNorm);
