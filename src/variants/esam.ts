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
import { SAM_OPTIONS } from '../core/sam-options.js';
import type {
  Capabilities,
  DataSelecting,
  MethodDefinition,
  PerExampleLoss,
} from '../core/method.js';
import type { NamedTensor } from '../util/types.js';
import { numberOption, withDefaults, type SchemaOf } from '../util/options.js';
import { createRandom, deriveSeed } from '../util/random.js';
import { trainableVariables } from '../optimizers/gradients.js';

export interface EsamOptions extends SamOptions {
  /** Probability that a variable is perturbed in a step (SWP; default 0.6). */
  beta?: number;
  /** Fraction of the batch used by the second pass (SDS; default 0.5; 1 = all). */
  gamma?: number;
  /** Seed of the per-step variable subsets (default 0). */
  seed?: number;
}

export const ESAM_OPTIONS = {
  ...withDefaults(SAM_OPTIONS, { epsilon: 1e-7 }),
  beta: numberOption({
    default: 0.6,
    min: 0,
    minInclusive: false,
    max: 1,
    doc: 'probability that a variable is perturbed in a step (SWP)',
  }),
  gamma: numberOption({
    default: 0.5,
    min: 0,
    minInclusive: false,
    max: 1,
    doc: 'fraction of the batch the second pass uses (SDS; 1 = all)',
  }),
  seed: numberOption({ default: 0, integer: true, doc: 'seed of the per-step variable subsets' }),
} satisfies SchemaOf<EsamOptions>;

export type { PerExampleLoss };

export class ESAM extends SAM implements DataSelecting {
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
    super(base, options, ESAM_OPTIONS);
    const o = this.options<EsamOptions>();
    this.beta = o.beta;
    this.gamma = o.gamma;
    this.seed = o.seed;
  }

  /** Data selection (γ < 1) needs per-example losses; weight perturbation alone splits like SAM. */
  override get capabilities(): Capabilities {
    const selects = this.gamma < 1;
    return {
      mSharpness: !selects && this.ascentSteps === 1,
      dataParallel: false,
      dataSelection: selects,
    };
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

  protected override perturbedMask(variables: readonly { name: string }[]): boolean[] {
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
    const variables = varList ?? trainableVariables();
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
}

tf.serialization.registerClass(ESAM);

/** `esam(tf.train.momentum(0.1, 0.9), {beta: 0.6, gamma: 0.5})` — ESAM around any optimizer. */
export function esam(base: tf.Optimizer, options: EsamOptions = {}): ESAM {
  return new ESAM(base, options);
}

export const ESAM_METHOD: MethodDefinition = {
  name: 'esam',
  title: 'ESAM',
  summary: 'perturbs a random subset of the weights, trains on the examples whose loss rose most',
  paper: 'Du et al., ICLR 2022',
  options: ESAM_OPTIONS,
  create: (base, options) => esam(base, options),
  // Data selection adds a forward-only pass, about a third of a step.
  passes: (o) => {
    const gamma = o['gamma'] as number;
    return 1 + gamma + (gamma < 1 ? 1 / 3 : 0);
  },
  selectionFraction: 'gamma',
  variants: [{ gamma: 1 }],
};
