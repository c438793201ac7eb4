/**
 * ESAM (Du et al., ICLR 2022, "Efficient Sharpness-aware Minimization for Improved Training of
 * Neural Networks"):
 * - Stochastic Weight Perturbation (§3.1): each step perturbs a random subset of the variables,
 *   each kept with probability β, by ε = ρ·g/(‖g‖ + 1e-7)/β, the norm taken over the kept ones
 *   (the official code, dydjw9/Efficient_SAM, draws the subset per parameter tensor). As there,
 *   the first pass computes the gradients of the kept variables only — that is where SWP saves
 *   time — and the second pass those of all variables, which the base applies.
 * - Sharpness-Sensitive Data Selection (§3.2): the second pass uses only the ⌊γ·n⌋ examples whose
 *   loss rose most under the perturbation. It needs per-example losses, which `model.fit` cannot
 *   give an optimizer: use `stepWithDataSelection` (γ = 1 under `fit` is SWP alone).
 * The subset of step t is drawn from (seed, t) alone, so a resumed run draws the same subsets.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions } from '../core/sam.js';
import type { NamedTensor } from '../util/types.js';
import { checkNumber } from '../util/validate.js';
import { createRandom, deriveSeed } from '../util/random.js';

export interface EsamOptions extends SamOptions {
  /** Probability that a variable is perturbed in a step (SWP; default 0.6). */
  beta?: number;
  /** Fraction of the batch used by the second pass (SDS; default 0.5; 1 = all). */
  gamma?: number;
  /** Seed of the per-step variable subsets (default 0). */
  seed?: number;
}

/** Per-example losses of the batch, or of the examples at `indices` (int32) when given. */
export type PerExampleLoss = (indices: tf.Tensor1D | null) => tf.Tensor1D;

export class ESAM extends SAM {
  static override get className(): string {
    return 'ESAM';
  }

  readonly beta: number;
  readonly gamma: number;
  readonly seed: number;
  private mask: { iteration: number; kept: boolean[] } | null = null;
  /** The iteration whose first pass was narrowed to the kept variables. */
  private narrowedAt: number | null = null;

  constructor(base: tf.Optimizer, options: EsamOptions = {}) {
    const { beta, gamma, seed, ...samOptions } = options;
    super(base, { ...samOptions, epsilon: samOptions.epsilon ?? 1e-7 });
    this.beta = checkNumber('ESAM', 'beta', beta ?? 0.6, { min: 0, minInclusive: false, max: 1 });
    this.gamma = checkNumber('ESAM', 'gamma', gamma ?? 0.5, {
      min: 0,
      minInclusive: false,
      max: 1,
    });
    this.seed = checkNumber('ESAM', 'seed', seed ?? 0, { integer: true });
  }

  /** The variables perturbed at step `iteration` (each with probability β; at least one). */
  perturbedAt(iteration: number, count: number): boolean[] {
    const random = createRandom(deriveSeed(this.seed, iteration));
    const kept = Array.from({ length: count }, () => random.next() < this.beta);
    if (count > 0 && !kept.includes(true)) kept[random.int(count)] = true;
    return kept;
  }

  protected override firstPassVariables(variables: tf.Variable[]): tf.Variable[] {
    this.narrowedAt = null;
    if (this.currentRho() === 0) return variables;
    const kept = this.perturbedAt(this.iterations, variables.length);
    this.narrowedAt = this.iterations;
    return variables.filter((_, i) => kept[i]);
  }

  protected override perturbedMask(variables: readonly tf.Variable[]): boolean[] {
    const iteration = this.iterations;
    if (this.narrowedAt === iteration) return variables.map(() => true);
    if (this.mask === null || this.mask.iteration !== iteration) {
      this.mask = { iteration, kept: this.perturbedAt(iteration, variables.length) };
    }
    return this.mask.kept;
  }

  protected override perturbation(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rho: number,
  ): Array<tf.Tensor | null> {
    return super.perturbation(variables, gradients, rho / this.beta);
  }

  override minimize(
    f: () => tf.Scalar,
    returnCost = false,
    varList?: tf.Variable[],
  ): tf.Scalar | null {
    this.refuseWithoutPerExampleLoss('model.fit / minimize');
    return super.minimize(f, returnCost, varList);
  }

  override step(lossFn: () => tf.Scalar, varList?: tf.Variable[]): tf.Scalar {
    this.refuseWithoutPerExampleLoss('step(lossFn)');
    return super.step(lossFn, varList);
  }

  /** The two-call API: `gradients` are those of every variable; the kept subset is perturbed. */
  override firstStep(gradients: tf.NamedTensorMap | NamedTensor[]): boolean {
    this.narrowedAt = null;
    return super.firstStep(gradients);
  }

  override stepMSharpness(
    partLossFns: ReadonlyArray<() => tf.Scalar>,
    varList?: tf.Variable[],
  ): tf.Scalar {
    this.refuseWithoutPerExampleLoss('stepMSharpness');
    this.narrowedAt = null;
    return super.stepMSharpness(partLossFns, varList);
  }

  /**
   * A full ESAM step with data selection. `perExampleLoss(null)` returns the batch's per-example
   * losses; `perExampleLoss(indices)` those of the selected examples (gather your inputs and
   * targets with `indices`). Returns the mean loss at w; the caller disposes it.
   */
  stepWithDataSelection(perExampleLoss: PerExampleLoss, varList?: tf.Variable[]): tf.Scalar {
    const variables =
      varList ?? Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
    let before: tf.Tensor1D | null = null;
    const firstVariables = this.firstPassVariables(variables);
    const first = tf.variableGrads(() => {
      const losses = perExampleLoss(null);
      before = tf.keep(tf.clone(losses));
      return tf.mean(losses) as tf.Scalar;
    }, firstVariables);
    const lossBefore = before as unknown as tf.Tensor1D;
    let needsSecondPass: boolean;
    try {
      needsSecondPass = this.firstStepTraining(
        first.grads,
        firstVariables === variables ? null : variables,
      );
    } catch (error) {
      tf.dispose([lossBefore, first.value]);
      throw error;
    } finally {
      tf.dispose(Object.values(first.grads));
    }
    if (!needsSecondPass) {
      lossBefore.dispose();
      return first.value;
    }
    try {
      const selected = tf.tidy(() => {
        const after = perExampleLoss(null);
        const count = after.shape[0];
        const keep = Math.max(1, Math.floor(this.gamma * count));
        return tf.topk(tf.sub(after, lossBefore), keep).indices as tf.Tensor1D;
      });
      const second = tf.variableGrads(
        () => tf.mean(perExampleLoss(selected)) as tf.Scalar,
        variables,
      );
      try {
        this.secondStep(second.grads);
      } finally {
        tf.dispose([selected, second.value, ...Object.values(second.grads)]);
      }
    } catch (error) {
      this.abandonStep();
      tf.dispose([lossBefore, first.value]);
      throw error;
    }
    lossBefore.dispose();
    return first.value;
  }

  private refuseWithoutPerExampleLoss(where: string): void {
    if (this.gamma < 1) {
      throw new Error(
        `ESAM: gamma is ${this.gamma}, and sharpness-sensitive data selection needs per-example losses, which ${where} cannot provide. ` +
          'Use esam.stepWithDataSelection(perExampleLoss) in a custom loop, or pass gamma: 1 (stochastic weight perturbation only) to train with model.fit.',
      );
    }
  }

  protected override variantConfig(): tf.serialization.ConfigDict {
    return { beta: this.beta, gamma: this.gamma, seed: this.seed };
  }
}

tf.serialization.registerClass(ESAM);

/** `esam(tf.train.momentum(0.1, 0.9), {beta: 0.6, gamma: 0.5})` — ESAM around any optimizer. */
export function esam(base: tf.Optimizer, options: EsamOptions = {}): ESAM {
  return new ESAM(base, options);
}
