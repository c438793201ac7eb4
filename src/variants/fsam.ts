/**
 * F-SAM (Li et al., CVPR 2024, "Friendly Sharpness-Aware Minimization", Alg. 1): ascend along
 * d = g − σ·m_prev instead of g, removing the full-gradient component estimated by an exponential
 * moving average m = λ·m_prev + (1 − λ)·g of the raw gradients (m = g, d = g on the first step),
 * in the order of the official code (nblt/F-SAM).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import { referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import { NamedSlots } from '../optimizers/slots.js';
import { numberOption, type SchemaOf } from '../util/options.js';
import { axpbyOf } from '../math/fused-ops.js';

export interface FsamOptions extends SamOptions {
  /** Weight of the removed full-gradient estimate (default 1). */
  sigma?: number;
  /** Decay of the gradient moving average (default 0.9). */
  lambda?: number;
}

export const FSAM_OPTIONS = {
  ...SAM_OPTIONS,
  sigma: numberOption({ default: 1, min: 0, doc: 'weight of the removed full-gradient estimate' }),
  lambda: numberOption({
    default: 0.9,
    min: 0,
    max: 1,
    doc: 'decay of the gradient moving average',
  }),
} satisfies SchemaOf<FsamOptions>;

export class FSAM extends SAM {
  static override get className(): string {
    return 'FSAM';
  }

  readonly sigma: number;
  readonly lambda: number;

  constructor(base: tf.Optimizer, options: FsamOptions = {}) {
    super(base, options, FSAM_OPTIONS);
    this.keepsFirstGradients = true;
    const o = this.options<FsamOptions>();
    this.sigma = o.sigma;
    this.lambda = o.lambda;
    this.state = new NamedSlots('FSAM', ['momentum']);
  }

  override get capabilities(): Capabilities {
    return OWN_UPDATE;
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
}

tf.serialization.registerClass(FSAM);

export function fsam(base: tf.Optimizer, options: FsamOptions = {}): FSAM {
  return new FSAM(base, options);
}

export const FSAM_METHOD: MethodDefinition = {
  name: 'fsam',
  title: 'F-SAM',
  summary: 'ascends along g − σ·m, the gradient without its full-batch component',
  paper: 'Li et al., CVPR 2024',
  options: FSAM_OPTIONS,
  create: (base, options) => fsam(base, options),
  passes: () => 2,
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      sigma: referenceNumber(c, 'sigma'),
      // The official code calls λ `lmbda`.
      lambda: referenceNumber(c, 'lmbda') ?? referenceNumber(c, 'lambda'),
    },
  }),
};
