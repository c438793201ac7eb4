/**
 * Coupled (L2) weight decay as PyTorch's SGD applies it: the base optimizer receives
 * g + λ·w instead of g. Wrap the base of a SAM-family optimizer to decay at the restored w,
 * as `SAM(params, SGD, weight_decay=λ)` does in the reference code.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import { numberOption, type OptionSchema } from '../util/options.js';
import { gradientList } from './gradients.js';
import { deserializeOptimizer } from './registry.js';
import { WrapperOptimizer } from './wrapper.js';

const WEIGHT_DECAY_OPTIONS: OptionSchema = {
  weightDecay: numberOption({ default: 0, min: 0, doc: 'λ of the coupled L2 term g + λ·w' }),
};

export class WeightDecay extends WrapperOptimizer {
  static get className(): string {
    return 'WeightDecay';
  }

  readonly weightDecay: number;

  constructor(base: tf.Optimizer, weightDecay: number) {
    super(base, { weightDecay }, WEIGHT_DECAY_OPTIONS, {
      owner: 'WeightDecay',
      prefix: 'weightdecay/',
    });
    this.weightDecay = this.options<{ weightDecay: number }>().weightDecay;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = gradientList(variableGradients, 'WeightDecay');
    const decayed = tf.tidy(() =>
      list.map(({ variable, gradient }) =>
        this.weightDecay === 0
          ? tf.clone(gradient)
          : tf.add(gradient, tf.mul(variable, this.weightDecay)),
      ),
    );
    this.applyToBase(
      list.map((g) => g.variable),
      decayed,
    );
    tf.dispose(decayed);
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(deserializeOptimizer(config['base'], 'WeightDecay'), config['weightDecay']);
  }
}

tf.serialization.registerClass(WeightDecay);

/** `withWeightDecay(tf.train.momentum(0.1, 0.9), 5e-4)`: PyTorch's SGD(weight_decay=5e-4). */
export function withWeightDecay(base: tf.Optimizer, weightDecay: number): WeightDecay {
  return new WeightDecay(base, weightDecay);
}
