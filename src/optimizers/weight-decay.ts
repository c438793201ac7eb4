/**
 * Coupled (L2) weight decay as PyTorch's SGD applies it: the base optimizer receives
 * g + λ·w instead of g. Wrap the base of a SAM-family optimizer to decay at the restored w,
 * as `SAM(params, SGD, weight_decay=λ)` does in the reference code.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import { checkNumber } from '../util/validate.js';
import { gradientList } from './gradients.js';
import {
  deserializeOptimizer,
  disposeOptimizer,
  getLearningRate,
  isOptimizer,
  serializeOptimizer,
  setLearningRate,
} from './registry.js';

export class WeightDecay extends tf.Optimizer {
  static get className(): string {
    return 'WeightDecay';
  }

  readonly weightDecay: number;

  constructor(
    readonly base: tf.Optimizer,
    weightDecay: number,
  ) {
    super();
    if (!isOptimizer(base)) {
      throw new Error(
        `WeightDecay: the first argument must be a tfjs optimizer; got ${String(base)}.`,
      );
    }
    this.weightDecay = checkNumber('WeightDecay', 'weightDecay', weightDecay, { min: 0 });
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = gradientList(variableGradients, 'WeightDecay');
    const decayed = tf.tidy(() =>
      list.map(({ variable, gradient }) => ({
        name: variable.name,
        tensor:
          this.weightDecay === 0
            ? tf.clone(gradient)
            : tf.add(gradient, tf.mul(variable, this.weightDecay)),
      })),
    );
    this.base.applyGradients(decayed);
    tf.dispose(decayed.map((d) => d.tensor));
    this.incrementIterations();
  }

  getLearningRate(): number {
    return getLearningRate(this.base);
  }

  setLearningRate(learningRate: number): void {
    setLearningRate(this.base, learningRate);
  }

  override dispose(): void {
    disposeOptimizer(this.base);
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return [
      await this.saveIterations(),
      ...(await this.base.getWeights()).map((w) => ({ name: `base/${w.name}`, tensor: w.tensor })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    await this.base.setWeights(
      rest.map((w) => ({ name: w.name.replace(/^base\//, ''), tensor: w.tensor })),
    );
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      weightDecay: this.weightDecay,
      base: serializeOptimizer(this.base) as unknown as tf.serialization.ConfigDict,
    };
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
