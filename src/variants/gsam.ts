/**
 * GSAM (Zhuang et al., ICLR 2022, "Surrogate Gap Guided Sharpness-Aware Minimization", Alg. 1):
 * the base receives g_sam − α·g⊥, where g⊥ is the component of g = ∇L(w) orthogonal to g_sam;
 * ρ_t may follow the learning rate: ρ_t = ρ_min + (ρ_max − ρ_min)·(lr − lr_min)/(lr_max − lr_min).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { checkNumber } from '../util/validate.js';
import { linearCombination, orthogonalComponent } from '../math/tree.js';

export interface GsamOptions extends SamOptions {
  /** Weight of the surrogate-gap descent (default 0.4). */
  alpha?: number;
  /** With lrMin/lrMax, ρ_t follows the learning rate between rhoMin and `rho` (= ρ_max). */
  rhoMin?: number | null;
  lrMin?: number | null;
  lrMax?: number | null;
}

export class GSAM extends SAM {
  static override get className(): string {
    return 'GSAM';
  }

  readonly alpha: number;
  readonly rhoMin: number | null;
  readonly lrMin: number | null;
  readonly lrMax: number | null;

  constructor(base: tf.Optimizer, options: GsamOptions = {}) {
    const { alpha, rhoMin, lrMin, lrMax, ...samOptions } = options;
    super(base, samOptions);
    this.keepsFirstGradients = true;
    this.alpha = checkNumber('GSAM', 'alpha', alpha ?? 0.4, { min: 0 });
    const tied = [rhoMin, lrMin, lrMax].filter((v) => v != null).length;
    if (tied !== 0 && tied !== 3) {
      throw new Error(
        `GSAM: options rhoMin, lrMin and lrMax go together (got rhoMin ${rhoMin}, lrMin ${lrMin}, lrMax ${lrMax}); give all three to tie rho to the learning rate, or none for a constant rho.`,
      );
    }
    this.rhoMin =
      rhoMin == null ? null : checkNumber('GSAM', 'rhoMin', rhoMin, { min: 0, max: this.rho });
    this.lrMin = lrMin == null ? null : checkNumber('GSAM', 'lrMin', lrMin, { min: 0 });
    this.lrMax =
      lrMax == null
        ? null
        : checkNumber('GSAM', 'lrMax', lrMax, { min: this.lrMin ?? 0, minInclusive: false });
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

  protected override variantConfig(): tf.serialization.ConfigDict {
    return { alpha: this.alpha, rhoMin: this.rhoMin, lrMin: this.lrMin, lrMax: this.lrMax };
  }
}

tf.serialization.registerClass(GSAM);

export function gsam(base: tf.Optimizer, options: GsamOptions = {}): GSAM {
  return new GSAM(base, options);
}
