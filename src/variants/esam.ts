/**
 * ESAM (Du et al., ICLR 2022, "Efficient Sharpness-aware Minimization for Improved Training of
 * Neural Networks"), as its official code computes it (dydjw9/Efficient_SAM, `utils/Esam.py`):
 * - Stochastic Weight Perturbation (§3.1): a step perturbs a subset of the variables (tensors) by
 *   ε = g·ρ/(‖g‖ + 1e-7)/β, the norm over that subset. The first step perturbs every tensor; each
 *   later step keeps each tensor with probability β. The first pass differentiates the kept
 *   tensors only — where SWP saves time —, the second pass all of them, and the base applies it.
 *   `adaptive`: the official ASAM form, T = |w| on every tensor (η = 0), ρ still 0.05.
 * - Sharpness-Sensitive Data Selection (§3.2): with m = ⌊γ·n⌋, the second pass takes the mean
 *   loss of the examples whose loss rose strictly more than the m-th largest rise (m − 1 of them
 *   without ties); γ ≥ 0.99 takes the whole batch. It needs per-example losses, which `model.fit`
 *   cannot give an optimizer: use `stepWithDataSelection` (γ = 1 under `fit` is SWP alone).
 * Where the official code cannot run, this one chooses (docs/VARIANTS.md): a draw that keeps no
 * tensor keeps one, drawn at random; a selection left empty (m ≤ 1, or ties) takes the examples
 * tied with the m-th largest rise. The subsets of step t come from (seed, t) alone, so a resumed run
 * draws the same ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import type { BatchPart } from '../core/accumulation.js';
import type {
  Capabilities,
  DataSelecting,
  MethodDefinition,
  PerExampleLoss,
} from '../core/method.js';
import { referenceFlag, referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import type { NamedTensor } from '../util/types.js';
import { functionOption, numberOption, withDefaults, type SchemaOf } from '../util/options.js';
import { createRandom, deriveSeed } from '../util/random.js';
import { trainableVariables } from '../optimizers/gradients.js';

export type { PerExampleLoss };

/** The tensors a step perturbs: `(step, count) => count flags`, at least one true. */
export type WeightMask = (step: number, count: number) => readonly boolean[];

export interface EsamOptions extends SamOptions {
  /** Probability that a tensor is perturbed in a step after the first (SWP; default 0.6). */
  beta?: number;
  /** Fraction of the batch the second pass selects (SDS; default 0.5; ≥ 0.99: the whole batch). */
  gamma?: number;
  /** Seed of the per-step tensor subsets (default 0). */
  seed?: number;
  /** The tensors each step perturbs, instead of the draws (not serialized; replays a record). */
  weightMask?: WeightMask | null;
}

/** From γ on, the official code trains on the whole batch. */
const WHOLE_BATCH_FROM = 0.99;

export const ESAM_OPTIONS = {
  // The official code: ε's constant 1e-7, ρ 0.05 also with `adaptive`, ASAM's T = |w| everywhere.
  ...withDefaults(SAM_OPTIONS, { epsilon: 1e-7, rho: 0.05, eta: 0, adaptiveScope: 'all' }),
  beta: numberOption({
    default: 0.6,
    min: 0,
    minInclusive: false,
    max: 1,
    doc: 'probability that a tensor is perturbed in a step after the first (SWP)',
  }),
  gamma: numberOption({
    default: 0.5,
    min: 0,
    minInclusive: false,
    max: 1,
    doc: 'fraction of the batch the second pass selects (SDS; >= 0.99: all)',
  }),
  seed: numberOption({ default: 0, integer: true, doc: 'seed of the per-step tensor subsets' }),
  weightMask: functionOption('the tensors each step perturbs (replays a record; not serialized)'),
} satisfies SchemaOf<EsamOptions>;

export class ESAM extends SAM implements DataSelecting {
  static override get className(): string {
    return 'ESAM';
  }

  readonly beta: number;
  readonly gamma: number;
  readonly seed: number;
  /** The examples (sorted indices) the latest `stepWithDataSelection` trained on. */
  lastSelection: number[] | null = null;
  private readonly weightMask: WeightMask | null;
  private mask: { iteration: number; kept: boolean[] } | null = null;
  /** The iteration whose first pass was narrowed to the kept variables. */
  private narrowedAt: number | null = null;

  constructor(base: tf.Optimizer, options: EsamOptions = {}) {
    super(base, options, ESAM_OPTIONS);
    const o = this.options<EsamOptions>();
    this.beta = o.beta;
    this.gamma = o.gamma;
    this.seed = o.seed;
    this.weightMask = o.weightMask;
  }

  /** Whether the second pass selects examples (γ < 0.99); otherwise it takes the whole batch. */
  get selectsData(): boolean {
    return this.gamma < WHOLE_BATCH_FROM;
  }

  /** Data selection needs per-example losses; weight perturbation alone splits like SAM. */
  override get capabilities(): Capabilities {
    return {
      mSharpness: !this.selectsData && this.ascentSteps === 1,
      dataParallel: false,
      dataSelection: this.selectsData,
      previousBatch: false,
      gradientAccumulation: !this.selectsData,
    };
  }

  /**
   * The tensors perturbed at step `iteration`: every one at step 0, then each with probability β
   * (at least one), or those `weightMask` gives.
   */
  perturbedAt(iteration: number, count: number): boolean[] {
    if (this.weightMask !== null) {
      const given = Array.from(this.weightMask(iteration, count), Boolean);
      if (given.length !== count || !given.includes(true)) {
        throw new Error(
          `ESAM: weightMask(${iteration}, ${count}) returned [${given.join(', ')}]; expected ${count} flags, at least one true (a step must perturb some tensor).`,
        );
      }
      return given;
    }
    if (iteration === 0) return Array.from({ length: count }, () => true);
    const random = createRandom(deriveSeed(this.seed, iteration));
    const kept = Array.from({ length: count }, () => random.next() <= this.beta);
    if (count > 0 && !kept.includes(true)) kept[random.int(count)] = true;
    return kept;
  }

  /**
   * The examples of the second pass, from each example's loss rise: those strictly above the
   * ⌊γn⌋-th largest rise (the official code), those tied with it when that leaves none, all of
   * them when γ ≥ 0.99. Sorted indices.
   */
  selectExamples(rises: ArrayLike<number>): number[] {
    const n = rises.length;
    const all = Array.from({ length: n }, (_, i) => i);
    if (!this.selectsData) return all;
    const m = Math.max(1, Math.floor(n * this.gamma));
    const cutoff = Array.from(rises).sort((a, b) => b - a)[m - 1] as number;
    const above = all.filter((i) => (rises[i] as number) > cutoff);
    return above.length > 0 ? above : all.filter((i) => (rises[i] as number) >= cutoff);
  }

  protected override firstPassVariables(variables: tf.Variable[]): tf.Variable[] {
    this.narrowedAt = null;
    if (this.stepRho() === 0) return variables;
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

  override stepMSharpness(partLossFns: readonly BatchPart[], varList?: tf.Variable[]): tf.Scalar {
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
      let selected: tf.Tensor1D | null = null;
      if (this.selectsData) {
        const rises = tf.tidy(() => tf.sub(perExampleLoss(null), lossBefore));
        this.lastSelection = this.selectExamples(rises.dataSync());
        rises.dispose();
        selected = tf.tensor1d(this.lastSelection, 'int32');
      } else {
        this.lastSelection = Array.from({ length: lossBefore.shape[0] }, (_, i) => i);
      }
      const second = tf.variableGrads(
        () => tf.mean(perExampleLoss(selected)) as tf.Scalar,
        variables,
      );
      try {
        this.secondStep(second.grads);
      } finally {
        tf.dispose([
          ...(selected === null ? [] : [selected]),
          second.value,
          ...Object.values(second.grads),
        ]);
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
    if (this.selectsData) {
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
    return gamma < WHOLE_BATCH_FROM ? 1 + gamma + 1 / 3 : 2;
  },
  selectionFraction: 'gamma',
  variants: [{ gamma: 1 }],
  // The official step with the recorded tensor masks; the recorded selection is compared.
  replay: (c) => {
    const masks = (c['masks'] as number[][] | undefined) ?? [];
    const selected = (c['selected'] as number[][] | undefined) ?? [];
    return {
      options: {
        rho: requiredReferenceNumber(c, 'rho'),
        beta: referenceNumber(c, 'beta'),
        gamma: referenceNumber(c, 'gamma'),
        adaptive: referenceFlag(c, 'adaptive'),
        weightMask: (step: number) => (masks[step] ?? []).map(Boolean),
      },
      checkStep: (optimizer, step) => {
        // Without selection the second pass takes the whole batch by construction.
        if (!(optimizer as ESAM).selectsData) return null;
        const ours = (optimizer as ESAM).lastSelection ?? [];
        const recorded = selected[step];
        return recorded === undefined || ours.join(',') === recorded.join(',')
          ? null
          : `step ${step}: selected [${ours.join(', ')}], the reference [${recorded.join(', ')}]`;
      },
    };
  },
};
