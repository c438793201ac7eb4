/**
 * XSAM (Chen & Zhou, ICLR 2026, arXiv 2603.10048): after the ascent to w_k, the base receives
 * s·d(α) instead of g_k, where v0 = (w_k − w)/‖w_k − w‖, v1 = g_k/‖g_k‖, s = ‖g_k‖ and
 * d(α) = slerp(v0, v1, α) interpolates between the ascent direction and the gradient at the
 * ascent point (α = 1 is SAM, α > 1 extrapolates past g_k). With `dynamic`, every `alphaEvery`
 * steps α is re-chosen as the grid point 0, αΔ, …, α_max whose probe loss L(w + ρ_max·d(α)) on the
 * step's batch is largest (forward passes only; the first maximum wins).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { checkBoolean, checkNumber } from '../util/validate.js';
import { angleBetween, normalize, scaledSlerp, slerp } from '../math/tree.js';

export interface XsamOptions extends SamOptions {
  /** Radius of the probe points of the α search (default 2·rho). */
  rhoMax?: number;
  /** Interpolation factor; the starting value when `dynamic` (default 1). */
  alpha?: number;
  /** Largest α of the search grid (default 2). */
  alphaMax?: number;
  /** Spacing of the search grid (default 0.1). */
  alphaDelta?: number;
  /** Search α on the step's batch every `alphaEvery` steps (default true). */
  dynamic?: boolean;
  /**
   * Steps between searches (default 1). Set it to the number of batches per epoch for the
   * official schedule (a search on the first batch of every epoch).
   */
  alphaEvery?: number;
}

export class XSAM extends SAM {
  static override get className(): string {
    return 'XSAM';
  }

  readonly rhoMax: number;
  readonly alphaMax: number;
  readonly alphaDelta: number;
  readonly dynamic: boolean;
  readonly alphaEvery: number;
  /** The configured α (the starting value when `dynamic`). */
  readonly initialAlpha: number;
  /** The α of the most recent step (the configured α before the first search). */
  alpha: number;
  /** The probe losses of the most recent search, one per point of `alphaGrid()`. */
  lastProbeLosses: number[] | null = null;

  constructor(base: tf.Optimizer, options: XsamOptions = {}) {
    const { rhoMax, alpha, alphaMax, alphaDelta, dynamic, alphaEvery, ...samOptions } = options;
    super(base, { ...samOptions, rho: samOptions.rho ?? 0.15 });
    this.keepsPerturbation = true;
    this.rhoMax = checkNumber('XSAM', 'rhoMax', rhoMax ?? 2 * this.rho, { min: 0 });
    this.alphaMax = checkNumber('XSAM', 'alphaMax', alphaMax ?? 2, { min: 0 });
    this.initialAlpha = checkNumber('XSAM', 'alpha', alpha ?? 1, {});
    this.alpha = this.initialAlpha;
    this.alphaDelta = checkNumber('XSAM', 'alphaDelta', alphaDelta ?? 0.1, {
      min: 0,
      minInclusive: false,
    });
    this.dynamic = checkBoolean('XSAM', 'dynamic', dynamic ?? true);
    this.alphaEvery = checkNumber('XSAM', 'alphaEvery', alphaEvery ?? 1, {
      min: 1,
      integer: true,
    });
    const points = Math.floor(this.alphaMax / this.alphaDelta + 1e-9) + 1;
    if (this.dynamic && points > 1000) {
      throw new Error(
        `XSAM: the α grid 0, ${this.alphaDelta}, …, ${this.alphaMax} has ${points} points, each a forward pass; use a larger alphaDelta or a smaller alphaMax (at most 1000 points).`,
      );
    }
  }

  /** The α grid of the search: i·alphaDelta for i = 0, 1, … while ≤ alphaMax. */
  alphaGrid(): number[] {
    const count = Math.floor(this.alphaMax / this.alphaDelta + 1e-9) + 1;
    return Array.from({ length: count }, (_, i) => i * this.alphaDelta);
  }

  protected override update(context: StepContext): readonly tf.Tensor[] {
    const perturbation = context.perturbation as tf.Tensor[];
    const gradients = context.perturbedGradients;
    if (this.dynamic && context.iteration % this.alphaEvery === 0) {
      const v0 = normalize(perturbation, this.epsilon);
      const v1 = normalize(gradients, this.epsilon);
      try {
        this.alpha = this.searchAlpha(context, v0, v1, angleBetween(v0, v1));
      } finally {
        tf.dispose([...v0, ...v1]);
      }
    }
    if (this.alpha === 1) return gradients;
    return scaledSlerp(perturbation, gradients, this.alpha, this.epsilon);
  }

  private searchAlpha(
    context: StepContext,
    v0: tf.Tensor[],
    v1: tf.Tensor[],
    theta: number,
  ): number {
    if (context.lossFn === null) {
      throw new Error(
        'XSAM: the dynamic α search needs the loss function, which the two-call API (firstStep/secondStep) does not have. ' +
          'Use step(lossFn) or model.fit, or pass dynamic: false with a fixed alpha.',
      );
    }
    const variables = context.variables;
    const center = variables.map((v) => tf.keep(tf.clone(v)));
    const grid = this.alphaGrid();
    const losses: number[] = [];
    try {
      for (const alpha of grid) {
        const direction = slerp(v0, v1, alpha, theta);
        tf.tidy(() =>
          variables.forEach((v, i) =>
            v.assign(
              tf.add(center[i] as tf.Tensor, tf.mul(direction[i] as tf.Tensor, this.rhoMax)),
            ),
          ),
        );
        tf.dispose(direction);
        losses.push(this.evaluateLoss(context.lossFn));
      }
    } finally {
      variables.forEach((v, i) => v.assign(center[i] as tf.Tensor));
      tf.dispose(center);
    }
    this.lastProbeLosses = losses;
    return this.pickAlpha(grid, losses);
  }

  /** The grid point of the largest probe loss; the first one wins a tie (the official code). */
  protected pickAlpha(grid: readonly number[], losses: readonly number[]): number {
    let best = 0;
    losses.forEach((loss, i) => {
      if (loss > (losses[best] as number)) best = i;
    });
    return grid[best] as number;
  }

  // Saved as a grid index (−1: the configured α): state scalars are float32, α itself is not.
  protected override scalarState(): Record<string, number> {
    const index = this.alphaGrid().indexOf(this.alpha);
    return { alphaIndex: this.alpha === this.initialAlpha && index < 0 ? -1 : index };
  }

  protected override restoreScalarState(values: Record<string, number>): void {
    const index = values['alphaIndex'];
    if (index === undefined) return;
    this.alpha = index < 0 ? this.initialAlpha : (this.alphaGrid()[index] ?? this.initialAlpha);
  }

  protected override variantConfig(): tf.serialization.ConfigDict {
    return {
      rhoMax: this.rhoMax,
      alpha: this.initialAlpha,
      alphaMax: this.alphaMax,
      alphaDelta: this.alphaDelta,
      dynamic: this.dynamic,
      alphaEvery: this.alphaEvery,
    };
  }
}

tf.serialization.registerClass(XSAM);

/** `xsam(tf.train.momentum(0.1, 0.9), {rho: 0.15})` — XSAM around any tfjs optimizer. */
export function xsam(base: tf.Optimizer, options: XsamOptions = {}): XSAM {
  return new XSAM(base, options);
}
