/**
 * F-SAM (Li et al., CVPR 2024, "Friendly Sharpness-Aware Minimization", Alg. 1): ascend along
 * d = g − σ·m_prev instead of g, removing the full-gradient component estimated by an exponential
 * moving average m = λ·m_prev + (1 − λ)·g of the raw gradients (m = g, d = g on the first step),
 * in the order of the official code (nblt/F-SAM).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { NamedSlots } from '../optimizers/slots.js';
import { checkNumber } from '../util/validate.js';
import { axpbyOf } from '../math/fused-ops.js';

export interface FsamOptions extends SamOptions {
  /** Weight of the removed full-gradient estimate (default 1). */
  sigma?: number;
  /** Decay of the gradient moving average (default 0.9). */
  lambda?: number;
}

export class FSAM extends SAM {
  static override get className(): string {
    return 'FSAM';
  }

  readonly sigma: number;
  readonly lambda: number;

  constructor(base: tf.Optimizer, options: FsamOptions = {}) {
    const { sigma, lambda, ...samOptions } = options;
    super(base, samOptions);
    this.keepsFirstGradients = true;
    this.sigma = checkNumber('FSAM', 'sigma', sigma ?? 1, { min: 0 });
    this.lambda = checkNumber('FSAM', 'lambda', lambda ?? 0.9, { min: 0, max: 1 });
    this.state = new NamedSlots('FSAM', ['momentum']);
  }

  protected override ascentDirection(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
  ): readonly tf.Tensor[] {
    const state = this.state as NamedSlots;
    return variables.map((v, i) => {
      const g = gradients[i] as tf.Tensor;
      if (!state.has(v.name)) return g;
      return axpbyOf(1, g, -this.sigma, state.get(v, 'momentum'));
    });
  }

  protected override update(context: StepContext): readonly tf.Tensor[] {
    const state = this.state as NamedSlots;
    const g = context.firstGradients as tf.Tensor[];
    context.variables.forEach((v, i) => {
      const first = !state.has(v.name);
      const m = state.get(v, 'momentum');
      tf.tidy(() =>
        m.assign(
          first ? (g[i] as tf.Tensor) : axpbyOf(this.lambda, m, 1 - this.lambda, g[i] as tf.Tensor),
        ),
      );
    });
    return context.perturbedGradients;
  }

  protected override variantConfig(): tf.serialization.ConfigDict {
    return { sigma: this.sigma, lambda: this.lambda };
  }
}

tf.serialization.registerClass(FSAM);

export function fsam(base: tf.Optimizer, options: FsamOptions = {}): FSAM {
  return new FSAM(base, options);
}
