/**
 * GSAM (Zhuang et al., ICLR 2022, "Surrogate Gap Guided Sharpness-Aware Minimization", Alg. 1):
 * the base receives g_sam − α·g⊥, where g⊥ is the component of g = ∇L(w) orthogonal to g_sam;
 * ρ_t may follow the learning rate: ρ_t = ρ_min + (ρ_max − ρ_min)·(lr − lr_min)/(lr_max − lr_min).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import { referenceAdaptive, referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import { linearCombination, orthogonalComponent } from '../math/tree.js';
import { numberOption, type SchemaOf } from '../util/options.js';

export interface GsamOptions extends SamOptions {
  /** Weight of the surrogate-gap descent (default 0.4). */
  alpha?: number;
  /** With lrMin/lrMax, ρ_t follows the learning rate between rhoMin and `rho` (= ρ_max). */
  rhoMin?: number | null;
  lrMin?: number | null;
  lrMax?: number | null;
}

export const GSAM_OPTIONS = {
  ...SAM_OPTIONS,
  alpha: numberOption({ default: 0.4, min: 0, doc: 'weight of the surrogate-gap descent' }),
  rhoMin: numberOption({
    default: null,
    min: 0,
    maxFrom: 'rho',
    doc: 'with lrMin/lrMax: rho follows the learning rate from rhoMin up to rho',
  }),
  lrMin: numberOption({ default: null, min: 0, doc: 'learning rate at which rho is rhoMin' }),
  lrMax: numberOption({
    default: null,
    min: 0,
    minFrom: 'lrMin',
    minInclusive: false,
    doc: 'learning rate at which rho is rho',
  }),
} satisfies SchemaOf<GsamOptions>;

export class GSAM extends SAM {
  static override get className(): string {
    return 'GSAM';
  }

  readonly alpha: number;
  readonly rhoMin: number | null;
  readonly lrMin: number | null;
  readonly lrMax: number | null;

  constructor(base: tf.Optimizer, options: GsamOptions = {}) {
    super(base, options, GSAM_OPTIONS);
    this.keepsFirstGradients = true;
    const o = this.options<GsamOptions>();
    const tied = [o.rhoMin, o.lrMin, o.lrMax].filter((v) => v !== null).length;
    if (tied !== 0 && tied !== 3) {
      throw new Error(
        `GSAM: options rhoMin, lrMin and lrMax go together (got rhoMin ${o.rhoMin}, lrMin ${o.lrMin}, lrMax ${o.lrMax}); give all three to tie rho to the learning rate, or none for a constant rho.`,
      );
    }
    this.alpha = o.alpha;
    this.rhoMin = o.rhoMin;
    this.lrMin = o.lrMin;
    this.lrMax = o.lrMax;
  }

  override get capabilities(): Capabilities {
    return OWN_UPDATE;
  }

  protected override currentRho(): number {
    if (this.rhoMin === null || this.rhoSchedule !== null) return super.currentRho();
    const lrMin = this.lrMin as number;
    const fraction = (this.getLearningRate() - lrMin) / ((this.lrMax as number) - lrMin);
    return this.rhoMin + (this.rho - this.rhoMin) * Math.min(1, Math.max(0, fraction));
  }

  protected override update(context: StepContext): tf.Tensor[] {
    const gSam = context.perturbedGradients;
    return tf.tidy(() => {
      const perpendicular = orthogonalComponent(
        context.firstGradients as tf.Tensor[],
        gSam,
        this.epsilon,
      );
      return linearCombination(1, gSam, -this.alpha, perpendicular);
    });
  }
}

tf.serialization.registerClass(GSAM);

export function gsam(base: tf.Optimizer, options: GsamOptions = {}): GSAM {
  return new GSAM(base, options);
}

export const GSAM_METHOD: MethodDefinition = {
  name: 'gsam',
  title: 'GSAM',
  summary: 'hands the base g_sam − α·g⊥, descending the surrogate gap',
  paper: 'Zhuang et al., ICLR 2022',
  options: GSAM_OPTIONS,
  create: (base, options) => gsam(base, options),
  passes: () => 2,
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      alpha: referenceNumber(c, 'alpha'),
      ...referenceAdaptive(c),
    },
  }),
};
