/**
 * AdamW (Loshchilov & Hutter 2019) with PyTorch's semantics: decoupled weight decay
 * p ← p·(1 − lr·λ), then Adam with bias corrections 1 − β^t computed from the step count in
 * float64 (so a resumed run continues bit for bit). State is keyed by variable name.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import { NamedSlots } from './slots.js';
import { checkKnownOptions, checkNumber } from '../util/validate.js';
import { gradientList } from './gradients.js';

export interface AdamWOptions {
  learningRate?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay?: number;
}

const OWNER = 'AdamW';
const OPTION_NAMES = ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay'] as const;

export class AdamW extends tf.Optimizer {
  static get className(): string {
    return 'AdamW';
  }

  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private readonly slots = new NamedSlots(OWNER, ['m', 'v']);

  constructor(options: AdamWOptions = {}) {
    super();
    checkKnownOptions(OWNER, options, OPTION_NAMES);
    this.learningRate = checkNumber(OWNER, 'learningRate', options.learningRate ?? 1e-3, {
      min: 0,
    });
    this.beta1 = checkNumber(OWNER, 'beta1', options.beta1 ?? 0.9, {
      min: 0,
      max: 1,
      maxInclusive: false,
    });
    this.beta2 = checkNumber(OWNER, 'beta2', options.beta2 ?? 0.999, {
      min: 0,
      max: 1,
      maxInclusive: false,
    });
    this.epsilon = checkNumber(OWNER, 'epsilon', options.epsilon ?? 1e-8, {
      min: 0,
      minInclusive: false,
    });
    this.weightDecay = checkNumber(OWNER, 'weightDecay', options.weightDecay ?? 1e-2, { min: 0 });
  }

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const updates = gradientList(variableGradients, OWNER);
    this.slots.bind(updates.map((u) => u.variable));
    const step = this.iterations + 1;
    const stepSize = this.learningRate / (1 - this.beta1 ** step);
    const secondMomentCorrection = Math.sqrt(1 - this.beta2 ** step);
    const decay = 1 - this.learningRate * this.weightDecay;
    for (const { variable, gradient } of updates) {
      const m = this.slots.get(variable, 'm');
      const v = this.slots.get(variable, 'v');
      tf.tidy(() => {
        const decayed = this.weightDecay === 0 ? variable : tf.mul(variable, decay);
        const newM = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        const denominator = tf.add(tf.div(tf.sqrt(newV), secondMomentCorrection), this.epsilon);
        m.assign(newM);
        v.assign(newV);
        variable.assign(tf.sub(decayed, tf.mul(tf.div(newM, denominator), stepSize)));
      });
    }
    this.incrementIterations();
  }

  /** The first moments m of `variables` (null before a variable's first update); Momentum-SAM reads them. */
  firstMoments(variables: readonly tf.Variable[]): Array<tf.Variable | null> {
    this.slots.bind(variables);
    return variables.map((v) => (this.slots.has(v.name) ? this.slots.get(v, 'm') : null));
  }

  getLearningRate(): number {
    return this.learningRate;
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = checkNumber(OWNER, 'learningRate', learningRate, { min: 0 });
  }

  override dispose(): void {
    super.dispose();
    this.slots.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return [await this.saveIterations(), ...this.slots.toNamedTensors()];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.slots.load(rest);
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: this.epsilon,
      weightDecay: this.weightDecay,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const options: AdamWOptions = {};
    for (const key of OPTION_NAMES) if (config[key] != null) options[key] = config[key] as number;
    return new cls(options);
  }
}

tf.serialization.registerClass(AdamW);

/** `adamw({learningRate: 1e-3, weightDecay: 1e-2})`: AdamW with PyTorch's defaults. */
export function adamw(options: AdamWOptions = {}): AdamW {
  return new AdamW(options);
}
