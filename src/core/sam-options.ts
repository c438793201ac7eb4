/** SAM's options: the interface users write against, and its schema (defaults, ranges, help). */
import {
  booleanOption,
  choiceOption,
  functionOption,
  numberOption,
  type SchemaOf,
} from '../util/options.js';
import type { AdaptiveScaling } from '../math/perturbation.js';

export type NonFinitePolicy = 'throw' | 'skip';
export type AdaptiveScope = 'weights' | 'all';
export type AscentNorm = 'l2' | 'linf';
export type { AdaptiveScaling };

/** Called before each step; returns ρ for that step (GSAM ties it to the learning rate). */
export type RhoSchedule = (context: { iteration: number; learningRate: number }) => number;

export interface SkippedStep {
  /** 0-based index of the step among all steps attempted by this optimizer. */
  step: number;
  reason: string;
}

export interface SamOptions {
  /** Radius of the neighbourhood (default 0.05; 0.5 when `adaptive`, as in the ASAM paper). */
  rho?: number;
  /** ASAM: scale the ascent by T_w = |w| + η (Kwon et al. 2021). Default false. */
  adaptive?: boolean;
  /** ASAM's η in T_w = |w| + η (default 0.01, the official ASAM code). */
  eta?: number;
  /**
   * Which variables ASAM scales: 'weights' (official ASAM: kernels, embeddings, normalization
   * scales; biases and normalization offsets get T = 1) or 'all' (davda54/sam). Default 'weights'.
   */
  adaptiveScope?: AdaptiveScope;
  /**
   * ASAM's T_w per element, |w| + η (default), or per tensor, ‖w‖ + η ('layerwise', SAM-ON's
   * official option).
   */
  adaptiveScaling?: AdaptiveScaling;
  /**
   * The ball of the ascent: 'l2' (default, ε = ρ·g/‖g‖) or 'linf' (ε = ρ·sign(g); with
   * `adaptive`, ρ·T_w·sign(g)), Foret et al. 2021 Eq. 2 with p = 2 or ∞.
   */
  ascentNorm?: AscentNorm;
  /** Multi-step SAM: reach w + ε in this many ascent steps of ρ/k each (default 1). */
  ascentSteps?: number;
  /** Added to norms in denominators (default 1e-12). */
  epsilon?: number;
  /** Clip the gradient handed to the base optimizer to this global norm (default: no clipping). */
  clipNorm?: number | null;
  /** A NaN/Inf loss or gradient: throw an error naming the step (default) or skip the step. */
  nonFinite?: NonFinitePolicy;
  /** Per-step ρ; overrides `rho` while set. Not serialized. */
  rhoSchedule?: RhoSchedule | null;
  /** Called when a step is skipped under `nonFinite: 'skip'`. Not serialized. */
  onSkip?: ((skipped: SkippedStep) => void) | null;
}

export const SAM_OPTIONS = {
  rho: numberOption({
    default: (o) => (o['adaptive'] === true ? 0.5 : 0.05),
    defaultDoc: '0.05 (0.5 when adaptive)',
    min: 0,
    doc: 'radius of the neighbourhood',
  }),
  adaptive: booleanOption(false, 'ASAM: scale the ascent by |w| + eta'),
  eta: numberOption({ default: 0.01, min: 0, doc: "ASAM's eta in T = |w| + eta" }),
  adaptiveScope: choiceOption(
    ['weights', 'all'] as const,
    'weights',
    'which tensors ASAM scales: weights (biases and offsets unscaled) or all',
  ),
  adaptiveScaling: choiceOption(
    ['elementwise', 'layerwise'] as const,
    'elementwise',
    "ASAM's T per element (|w| + eta) or per tensor (‖w‖ + eta)",
  ),
  ascentNorm: choiceOption(
    ['l2', 'linf'] as const,
    'l2',
    'the ball of the ascent: rho·g/‖g‖ (l2) or rho·sign(g) (linf)',
  ),
  ascentSteps: numberOption({
    default: 1,
    min: 1,
    integer: true,
    doc: 'multi-step SAM: ascent steps of rho/k each',
  }),
  epsilon: numberOption({
    default: 1e-12,
    min: 0,
    minInclusive: false,
    doc: 'added to norms in denominators',
  }),
  clipNorm: numberOption({
    default: null,
    nullable: true,
    min: 0,
    minInclusive: false,
    doc: 'clip the update to this global norm',
  }),
  nonFinite: choiceOption(
    ['throw', 'skip'] as const,
    'throw',
    'a NaN/Inf loss or gradient: throw, or skip the step',
  ),
  rhoSchedule: functionOption('per-step rho (not serialized)'),
  onSkip: functionOption('called for each skipped step (not serialized)'),
} satisfies SchemaOf<SamOptions>;
