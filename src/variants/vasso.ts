/**
 * VaSSO (Li & Giannakis, NeurIPS 2023, "Enhancing Sharpness-Aware Optimization Through Variance
 * Suppression", Alg. 1): ascend along d, an exponential moving average of the gradients,
 * d = (1 − θ)·d_prev + θ·g (d = g on the first step), ε = ρ·d/(‖d‖ + 1e-7); the base applies the
 * gradient at w + ε. As the official code (BingcongLi/VaSSO, `solver/vasso.py`), θ weighs the NEW
 * gradient and 1e-7 is added to the norm.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import { referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import { axpbyOf } from '../math/fused-ops.js';
import { NamedSlots } from '../optimizers/slots.js';
import { numberOption, withDefaults, type SchemaOf } from '../util/options.js';

export interface VassoOptions extends SamOptions {
  /** Weight of the new gradient in the moving average d (default 0.9, the official default). */
  theta?: number;
}

export const VASSO_OPTIONS = {
  ...withDefaults(SAM_OPTIONS, { epsilon: 1e-7 }),
  theta: numberOption({
    default: 0.9,
    min: 0,
    max: 1,
    doc: 'weight of the new gradient in the moving average the ascent follows',
  }),
} satisfies SchemaOf<VassoOptions>;

export class VaSSO extends SAM {
  static override get className(): string {
    return 'VaSSO';
  }

  readonly theta: number;

  constructor(base: tf.Optimizer, options: VassoOptions = {}) {
    super(base, options, VASSO_OPTIONS);
    if (this.ascentSteps > 1) {
      throw new Error(
        `VaSSO: ascentSteps is ${this.ascentSteps}; its moving-average direction is defined for one ascent step per step. Use ascentSteps: 1.`,
      );
    }
    this.keepsFirstGradients = true;
    this.theta = this.options<VassoOptions>().theta;
    this.state = new NamedSlots('VaSSO', ['direction']);
  }

  /** Its ascent follows a state of its own: no step kind splits it. */
  override get capabilities(): Capabilities {
    return OWN_UPDATE;
  }

  /** d = (1 − θ)·d_prev + θ·g, or g where there is no d yet. */
  private averaged(variable: tf.Variable, gradient: tf.Tensor): tf.Tensor {
    const state = this.state as NamedSlots;
    if (!state.has(variable.name)) return gradient;
    return axpbyOf(1 - this.theta, state.get(variable, 'direction'), this.theta, gradient);
  }

  protected override ascentDirection(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
  ): readonly tf.Tensor[] {
    return variables.map((v, i) => this.averaged(v, gradients[i] as tf.Tensor));
  }

  /** The new d is kept once the step is known to be applied (a skipped step leaves it). */
  protected override update(context: StepContext): readonly tf.Tensor[] {
    const g = context.firstGradients as tf.Tensor[];
    context.variables.forEach((v, i) => {
      const next = tf.tidy(() => tf.clone(this.averaged(v, g[i] as tf.Tensor)));
      (this.state as NamedSlots).get(v, 'direction').assign(next);
      next.dispose();
    });
    return context.perturbedGradients;
  }
}

tf.serialization.registerClass(VaSSO);

export function vasso(base: tf.Optimizer, options: VassoOptions = {}): VaSSO {
  return new VaSSO(base, options);
}

export const VASSO_METHOD: MethodDefinition = {
  name: 'vasso',
  title: 'VaSSO',
  summary: 'ascends along a moving average of the gradients (variance-suppressed perturbation)',
  paper: 'Li & Giannakis, NeurIPS 2023',
  options: VASSO_OPTIONS,
  create: (base, options) => vasso(base, options),
  passes: () => 2,
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      theta: referenceNumber(c, 'theta'),
    },
  }),
};
