/**
 * Lookbehind-SAM (Mordido et al., ICML 2024, "Lookbehind-SAM: k steps back, 1 step forward",
 * Alg. 1): each step takes k ascent steps that accumulate on the slow weights s (q_0 = s,
 * q_{i+1} = q_i + ρ·g_i/‖g_i‖, g_0 = ∇L(s), g_{i+1} = ∇L(q_{i+1})), and k base steps on fast
 * weights f (f_0 = s) with the gradients at q_1 … q_k; then s ← α·f_k + (1 − α)·s, per tensor.
 * Adaptive α (per tensor): α = (cos(f_1 − s, f_k − s) + 1)/2, with the norms clamped at 1e-8.
 * As the official code (chandar-lab/Lookbehind-SAM, `lookbehind.py` with the batch loop of
 * `example_cifar.py`): all k passes on the step's batch, 1e-16 added to the norm, the base
 * optimizer counting k steps per step.
 *
 * The k gradients are taken before any base step (the ascent points do not depend on f), so a
 * non-finite one leaves weights and optimizer state untouched; ρ = 0 (or a suspended step) is one
 * base step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import { SAM, type SamOptions } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import type { GradientSource } from '../core/accumulation.js';
import { nonFiniteProblem } from '../core/non-finite.js';
import { referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import { NonTrainableRecorder } from '../core/state-guard.js';
import { axpbyOf, gramOf } from '../math/fused-ops.js';
import { trainableVariables } from '../optimizers/gradients.js';
import { booleanOption, numberOption, withDefaults, type SchemaOf } from '../util/options.js';

export interface LookbehindOptions extends SamOptions {
  /** Ascent steps, and base steps on the fast weights, per step (default 2). */
  k?: number;
  /** Weight of the fast weights in the new slow weights (default 0.5). */
  alpha?: number;
  /** α per tensor from the cosine of the first and last fast steps (default false). */
  adaptiveAlpha?: boolean;
}

export const LOOKBEHIND_OPTIONS = {
  ...withDefaults(SAM_OPTIONS, { epsilon: 1e-16 }),
  k: numberOption({
    default: 2,
    min: 1,
    integer: true,
    doc: 'ascent steps and fast base steps per step',
  }),
  alpha: numberOption({
    default: 0.5,
    min: 0,
    max: 1,
    doc: 'weight of the fast weights in the new slow weights',
  }),
  adaptiveAlpha: booleanOption(false, 'alpha per tensor from the cosine of the fast steps'),
} satisfies SchemaOf<LookbehindOptions>;

export class LookbehindSAM extends SAM {
  static override get className(): string {
    return 'LookbehindSAM';
  }

  readonly k: number;
  readonly alpha: number;
  readonly adaptiveAlpha: boolean;

  constructor(base: tf.Optimizer, options: LookbehindOptions = {}) {
    super(base, options, LOOKBEHIND_OPTIONS);
    if (this.ascentSteps > 1) {
      throw new Error(
        `LookbehindSAM: ascentSteps is ${this.ascentSteps}; its k option sets the ascent steps. Use k: ${this.ascentSteps} and leave ascentSteps at 1.`,
      );
    }
    const o = this.options<LookbehindOptions>();
    this.k = o.k;
    this.alpha = o.alpha;
    this.adaptiveAlpha = o.adaptiveAlpha;
  }

  /** k base steps on fast weights: no step kind splits it. */
  override get capabilities(): Capabilities {
    return OWN_UPDATE;
  }

  protected override runStep(source: GradientSource, varList?: tf.Variable[]): tf.Scalar {
    this.releasePendingKept();
    const variables = varList ?? trainableVariables();
    const first = source.gradients(variables, false);
    const loss = first.value;
    const gradients = variables.map((v) => first.grads[v.name] ?? tf.zerosLike(v));
    tf.dispose(Object.values(first.grads).filter((g) => !gradients.includes(g)));
    const problem = nonFiniteProblem(
      loss,
      variables.map((variable, i) => ({ variable, gradient: gradients[i] as tf.Tensor })),
      'at the current weights (first pass)',
    );
    try {
      if (problem !== null) {
        this.nonFiniteGuard.handle(problem, this.iterations, () => undefined);
      } else if (this.stepRho() === 0) {
        this.applyToBase(variables, gradients);
      } else {
        this.lookbehind(source, variables, gradients);
      }
    } catch (error) {
      loss.dispose();
      throw error;
    } finally {
      tf.dispose(gradients);
    }
    return loss;
  }

  /** The k ascent passes, then the k fast base steps and the step back to the slow weights. */
  private lookbehind(
    source: GradientSource,
    variables: tf.Variable[],
    firstGradients: tf.Tensor[],
  ): void {
    const rho = this.stepRho();
    const slow = variables.map((v) => tf.keep(tf.clone(v)));
    const recorder = new NonTrainableRecorder();
    const perturbed: tf.Tensor[][] = [];
    const restore = () => {
      recorder.restore();
      variables.forEach((v, i) => v.assign(slow[i] as tf.Tensor));
    };
    try {
      recorder.start();
      let current = firstGradients;
      for (let i = 0; i < this.k; i++) {
        this.moveAlong(variables, current, rho);
        const pass = source.gradients(variables, true);
        const grads = variables.map((v) => pass.grads[v.name] ?? tf.zerosLike(v));
        const problem = nonFiniteProblem(
          pass.value,
          variables.map((variable, j) => ({ variable, gradient: grads[j] as tf.Tensor })),
          `at ascent point ${i + 1} of ${this.k}`,
        );
        tf.dispose([pass.value, ...Object.values(pass.grads).filter((g) => !grads.includes(g))]);
        perturbed.push(grads);
        if (problem !== null) {
          restore();
          this.nonFiniteGuard.handle(problem, this.iterations, () => undefined);
          return;
        }
        current = grads;
      }
      restore();
      let firstFast: tf.Tensor[] | null = null;
      perturbed.forEach((grads, i) => {
        this.applyToBase(variables, grads, i === this.k - 1);
        if (i === 0 && this.adaptiveAlpha) firstFast = variables.map((v) => tf.keep(tf.clone(v)));
      });
      tf.tidy(() => {
        const weights = variables.map((v, i) =>
          firstFast === null
            ? this.alpha
            : adaptiveWeight(firstFast[i] as tf.Tensor, v, slow[i] as tf.Tensor),
        );
        variables.forEach((v, i) => {
          const a = weights[i] as number | tf.Scalar;
          const rest = typeof a === 'number' ? 1 - a : (tf.sub(1, a) as tf.Scalar);
          v.assign(axpbyOf(a, v, rest, slow[i] as tf.Tensor));
        });
      });
      tf.dispose(firstFast ?? []);
    } finally {
      recorder.stop();
      tf.dispose([...slow, ...perturbed.flat()]);
    }
  }

  /** The two-call API cannot take k ascent passes: it needs the loss function. */
  override firstStep(_gradients: tf.NamedTensorMap | NamedTensor[]): boolean {
    throw new Error(
      `LookbehindSAM takes ${this.k} ascent passes per step, which need the loss function: use step(lossFn) or model.fit.`,
    );
  }
}

/** α = (cos(f_1 − s, f_k − s) + 1)/2, with each norm clamped at 1e-8 (the official code). */
function adaptiveWeight(firstFast: tf.Tensor, lastFast: tf.Tensor, slow: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const gram = gramOf(tf.sub(firstFast, slow), tf.sub(lastFast, slow));
    const [uu, ww, uw] = tf.unstack(gram) as [tf.Scalar, tf.Scalar, tf.Scalar];
    const norms = tf.mul(tf.maximum(tf.sqrt(uu), 1e-8), tf.maximum(tf.sqrt(ww), 1e-8));
    return tf.div(tf.add(tf.div(uw, norms), 1), 2) as tf.Scalar;
  });
}

tf.serialization.registerClass(LookbehindSAM);

export function lookbehind(base: tf.Optimizer, options: LookbehindOptions = {}): LookbehindSAM {
  return new LookbehindSAM(base, options);
}

export const LOOKBEHIND_METHOD: MethodDefinition = {
  name: 'lookbehind',
  title: 'Lookbehind-SAM',
  summary: 'k ascent steps and k fast steps per step, then back towards the slow weights',
  paper: 'Mordido et al., ICML 2024',
  options: LOOKBEHIND_OPTIONS,
  create: (base, options) => lookbehind(base, options),
  passes: (o) => 1 + (o['k'] as number),
  // The official alpha -1 is the adaptive α.
  replay: (c) => {
    const alpha = referenceNumber(c, 'alpha');
    return {
      options: {
        rho: requiredReferenceNumber(c, 'rho'),
        k: referenceNumber(c, 'k'),
        ...(alpha === -1 ? { adaptiveAlpha: true } : { alpha }),
      },
    };
  },
};
