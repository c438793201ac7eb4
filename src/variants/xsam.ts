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
import { SAM_OPTIONS } from '../core/sam-options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import { referenceFlag, referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import {
  booleanOption,
  functionOption,
  numberOption,
  withDefaults,
  type SchemaOf,
} from '../util/options.js';
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
  /**
   * Overrides the α the search picked (not serialized): called with the grid, its probe losses,
   * the step and the picked α; returns the α to use. For replaying recorded choices.
   */
  pickAlpha?: ((choice: AlphaChoice) => number) | null;
}

/** One α search: the grid, the probe loss at each grid point, and the α the search picked. */
export interface AlphaChoice {
  grid: readonly number[];
  losses: readonly number[];
  step: number;
  picked: number;
}

export const XSAM_OPTIONS = {
  ...withDefaults(SAM_OPTIONS, { rho: 0.15 }),
  rhoMax: numberOption({
    default: (o) => 2 * (o['rho'] as number),
    defaultDoc: '2·rho',
    min: 0,
    doc: 'radius of the probe points of the alpha search',
  }),
  alpha: numberOption({ default: 1, doc: 'interpolation factor; the start value when dynamic' }),
  alphaMax: numberOption({ default: 2, min: 0, doc: 'largest alpha of the search grid' }),
  alphaDelta: numberOption({
    default: 0.1,
    min: 0,
    minInclusive: false,
    doc: 'spacing of the search grid',
  }),
  dynamic: booleanOption(true, "search alpha on the step's batch every alphaEvery steps"),
  alphaEvery: numberOption({
    default: 1,
    min: 1,
    integer: true,
    doc: 'steps between alpha searches (the official code: once per epoch)',
  }),
  pickAlpha: functionOption('overrides the searched alpha (replays; not serialized)'),
} satisfies SchemaOf<XsamOptions>;

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
  private readonly alphaOverride: ((choice: AlphaChoice) => number) | null;

  constructor(base: tf.Optimizer, options: XsamOptions = {}) {
    super(base, options, XSAM_OPTIONS);
    this.keepsPerturbation = true;
    const o = this.options<XsamOptions>();
    this.rhoMax = o.rhoMax;
    this.alphaMax = o.alphaMax;
    this.initialAlpha = o.alpha;
    this.alpha = this.initialAlpha;
    this.alphaDelta = o.alphaDelta;
    this.dynamic = o.dynamic;
    this.alphaEvery = o.alphaEvery;
    this.alphaOverride = o.pickAlpha;
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
    // The grid point of the largest probe loss; the first one wins a tie (the official code).
    let best = 0;
    losses.forEach((loss, i) => {
      if (loss > (losses[best] as number)) best = i;
    });
    const picked = grid[best] as number;
    return this.alphaOverride?.({ grid, losses, step: context.iteration, picked }) ?? picked;
  }

  override get capabilities(): Capabilities {
    return OWN_UPDATE;
  }

  // Saved as a grid index (−1: the configured α): state scalars are float32, α itself is not.
  protected override scalarState(): Record<string, number> {
    const index = this.alphaGrid().indexOf(this.alpha);
    return {
      ...super.scalarState(),
      alphaIndex: this.alpha === this.initialAlpha && index < 0 ? -1 : index,
    };
  }

  protected override restoreScalarState(values: Record<string, number>): void {
    super.restoreScalarState(values);
    const index = values['alphaIndex'];
    if (index === undefined) return;
    this.alpha = index < 0 ? this.initialAlpha : (this.alphaGrid()[index] ?? this.initialAlpha);
  }
}

tf.serialization.registerClass(XSAM);

/** `xsam(tf.train.momentum(0.1, 0.9), {rho: 0.15})` — XSAM around any tfjs optimizer. */
export function xsam(base: tf.Optimizer, options: XsamOptions = {}): XSAM {
  return new XSAM(base, options);
}

/**
 * A reference α and the searched one are a float32 tie when their probe losses are within this
 * many units in the last place: the arg max there is decided by rounding, not by the method.
 */
export const FLOAT32_TIE_ULPS = 4;

export const XSAM_METHOD: MethodDefinition = {
  name: 'xsam',
  title: 'XSAM',
  summary: 'interpolates between the ascent direction and the gradient at the ascent point',
  paper: 'Chen & Zhou, ICLR 2026',
  options: XSAM_OPTIONS,
  create: (base, options) => xsam(base, options),
  passes: (o) => {
    const grid = o['dynamic']
      ? (Math.floor((o['alphaMax'] as number) / (o['alphaDelta'] as number) + 1e-9) + 1) /
        (o['alphaEvery'] as number)
      : 0;
    return 1 + (o['ascentSteps'] as number) + grid / 2;
  },
  // The official XSAM code searches α on the first batch of every epoch.
  runDefaults: ({ stepsPerEpoch }) =>
    stepsPerEpoch === undefined ? {} : { alphaEvery: stepsPerEpoch },
  replay: (c) => {
    const recorded = (c['alphas'] as number[] | undefined) ?? [];
    const notes: string[] = [];
    return {
      options: {
        ascentSteps: referenceNumber(c, 'ascentSteps'),
        rho: requiredReferenceNumber(c, 'rho'),
        rhoMax: referenceNumber(c, 'rhoMax'),
        alpha: referenceNumber(c, 'alpha'),
        alphaMax: referenceNumber(c, 'alphaMax'),
        alphaDelta: referenceNumber(c, 'alphaDelta'),
        dynamic: referenceFlag(c, 'dynamic'),
        alphaEvery: referenceNumber(c, 'alphaEvery'),
        epsilon: 1e-12,
        pickAlpha: (choice: AlphaChoice) => resolveFloat32Tie(choice, recorded[choice.step], notes),
      },
      notes,
      checkStep: (optimizer, step) => {
        const expected = recorded[step];
        const used = (optimizer as XSAM).alpha;
        return expected === undefined || Math.abs(used - expected) <= 1e-9
          ? null
          : `step ${step}: alpha ${used}, expected ${expected}`;
      },
    };
  },
};

/**
 * The recorded α where its probe loss and the picked one's are a float32 tie (noted in `notes`);
 * the picked α otherwise, so that any other disagreement shows.
 */
function resolveFloat32Tie(
  { grid, losses, step, picked }: AlphaChoice,
  expected: number | undefined,
  notes: string[],
): number {
  if (expected === undefined || Math.abs(picked - expected) < 1e-9) return picked;
  const at = (alpha: number) => grid.findIndex((a) => Math.abs(a - alpha) < 1e-9);
  const [a, b] = [losses[at(picked)] as number, losses[at(expected)]];
  if (b === undefined) return picked;
  const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(a), Math.abs(b)))) - 23);
  const gap = Math.abs(a - b);
  if (gap > FLOAT32_TIE_ULPS * ulp) return picked;
  notes.push(
    `step ${step}: float32 tie in the alpha search: probe loss ${a} at alpha ${picked} vs ${b} at the reference's alpha ${expected} (${(gap / ulp).toFixed(1)} ulp apart); took the reference's alpha`,
  );
  return grid[at(expected)] as number;
}
