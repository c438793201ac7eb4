/**
 * What a method of the family declares about itself, once, next to its code: the registry entry
 * (`MethodDefinition`) that the text interface, the trainer, the golden replay, the benchmarks and
 * the demo read, and the capabilities its optimizers report (`SharpnessAware.capabilities`).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { OptionSchema } from '../util/options.js';
import type { SgdStepAttrs } from '../math/fused-ops.js';

/** Which step kinds an optimizer's step can be split into or needs. */
export interface Capabilities {
  /**
   * m-sharpness (`stepMSharpness`): one perturbation per part of the batch, the base applies the
   * mean of the parts' perturbed gradients. Methods that change the update cannot.
   */
  readonly mSharpness: boolean;
  /** Data-parallel steps (tfjs-sam/parallel): m-sharpness with one part per thread's slice. */
  readonly dataParallel: boolean;
  /**
   * The step chooses examples by their loss and needs per-example losses
   * (`stepWithDataSelection`); `model.fit` cannot give them.
   */
  readonly dataSelection: boolean;
  /**
   * The step takes the previous batch's loss as well as this one's (`stepWithPrevious`, SAMPa);
   * `model.fit` cannot give it.
   */
  readonly previousBatch: boolean;
  /** `stepAccumulated(parts)`: one step over micro-batches, equal to the step on their union. */
  readonly gradientAccumulation: boolean;
}

/** Per-example losses of the batch, or of the examples at `indices` (int32) when given. */
export type PerExampleLoss = (indices: tf.Tensor1D | null) => tf.Tensor1D;

/** The step of a method with `capabilities.dataSelection`. */
export interface DataSelecting {
  /** A full step on per-example losses; returns the mean loss at w (the caller disposes it). */
  stepWithDataSelection(perExampleLoss: PerExampleLoss, varList?: tf.Variable[]): tf.Scalar;
}

/** The step of a method with `capabilities.previousBatch`. */
export interface PreviousBatchStepping {
  /**
   * A full step on this batch's loss and the previous batch's (null on the first step: this
   * one's); returns the loss the method reports (the caller disposes it).
   */
  stepWithPrevious(
    lossFn: () => tf.Scalar,
    previousLossFn: (() => tf.Scalar) | null,
    varList?: tf.Variable[],
  ): tf.Scalar;
}

/**
 * A step whose two gradients are independent (SAMPa): the points to take them at, and the update
 * from them, so that they can be taken on two threads (`tfjs-sam/parallel`).
 */
export interface TwoPointStepping {
  /**
   * The point of the previous batch's gradient in the step about to run (null: the current
   * weights, before the first step), or 'base' for a plain step. The caller disposes it.
   */
  perturbedPoint(variables: tf.Variable[]): tf.Tensor[] | null | 'base';
  /**
   * The point of this batch's gradient in the same step (null: the current weights), once the
   * perturbed one is out (a worker can start on it first). The caller disposes it.
   */
  extrapolatedPoint(variables: tf.Variable[]): tf.Tensor[] | null;
  /** Ends the step with the gradient at `perturbed` (previous batch) and at `extrapolated`. */
  applyStepGradients(
    variables: tf.Variable[],
    previousGradients: readonly tf.Tensor[],
    currentGradients: readonly tf.Tensor[],
    loss: tf.Scalar | null,
  ): void;
  /** This step as data a replica can reproduce, or null when it cannot (see ReplicaStep). */
  replicaStep?(variables: tf.Variable[]): ReplicaStep | null;
}

/**
 * A two-point step as data, for a replica that holds the same weights x, stored gradient s and
 * momentum buffers: x̃ = x + ρ/(‖s‖ + ϵ)·s (normalizedStepFrom), and the step from x with the
 * gradients at x̃ and y (sgdStepOf with `step`), after which s is the gradient at y.
 */
export interface ReplicaStep {
  rho: number;
  epsilon: number;
  stored: readonly tf.Tensor[];
  step: SgdStepAttrs;
  /** The momentum buffers the step updates (null: plain SGD). */
  accumulations: readonly tf.Variable[] | null;
}

export function isTwoPoint(value: unknown): value is TwoPointStepping {
  const candidate = value as Partial<TwoPointStepping> | null;
  return (
    typeof candidate?.perturbedPoint === 'function' &&
    typeof candidate.extrapolatedPoint === 'function' &&
    typeof candidate.applyStepGradients === 'function'
  );
}

/** The step of a method with `capabilities.gradientAccumulation`. */
export interface AccumulatedStepping {
  /** One step over the parts of a batch (their mean losses, weighted by `size` where given). */
  stepAccumulated(
    parts: ReadonlyArray<(() => tf.Scalar) | { loss: () => tf.Scalar; size: number }>,
    varList?: tf.Variable[],
  ): tf.Scalar;
}

/** The step of a method with `capabilities.mSharpness`. */
export interface MSharpnessStepping {
  /** One perturbation per part; returns the mean of the parts' losses at w. */
  stepMSharpness(partLossFns: ReadonlyArray<() => tf.Scalar>, varList?: tf.Variable[]): tf.Scalar;
}

/** A method whose update is its own: no step kind but the whole step. */
export const WHOLE_STEP_ONLY: Capabilities = Object.freeze({
  mSharpness: false,
  dataParallel: false,
  dataSelection: false,
  previousBatch: false,
  gradientAccumulation: false,
});

/** A method whose update is its own (GSAM, WSAM, …): whole steps, over micro-batches too. */
export const OWN_UPDATE: Capabilities = Object.freeze({
  ...WHOLE_STEP_ONLY,
  gradientAccumulation: true,
});

/** An optimizer that reports what its step supports (every optimizer of this library's family). */
export interface SharpnessAware {
  readonly capabilities: Capabilities;
  /** While true, each step is the base optimizer's (ρ = 0): a window of sharpness-aware epochs. */
  sharpnessSuspended: boolean;
}

export function isSharpnessAware(value: unknown): value is SharpnessAware {
  const capabilities = (value as Partial<SharpnessAware> | null)?.capabilities;
  return typeof capabilities === 'object' && capabilities !== null;
}

/** A method that reads the model's structure (SAM-ON: its normalization layers, by class). */
export interface ModelAware {
  /** Called with the model it trains (the trainer does, after compiling or loading). */
  useModel(model: tfl.LayersModel): void;
}

export function isModelAware(value: unknown): value is ModelAware {
  return typeof (value as Partial<ModelAware> | null)?.useModel === 'function';
}

/** Facts of the run a method may take defaults from. */
export interface RunContext {
  /** Optimizer steps in one epoch. */
  stepsPerEpoch?: number;
}

/** One case of a reference trajectory file (`golden/`): the official code's settings. */
export interface ReferenceCase {
  name: string;
  optimizer: string;
  config: Readonly<Record<string, unknown>>;
  [key: string]: unknown;
}

/** How to replay a reference case with this library. */
export interface ReferenceReplay {
  /** Options for `create` that reproduce the official code's settings. */
  options: Record<string, unknown>;
  /** Notes the replay collects while it runs (e.g. float32 ties it resolved). */
  notes?: string[];
  /** Why the reported losses are not compared (the method reports the loss at another point). */
  lossNotCompared?: string;
  /** Compares a recorded choice of step `step` with the optimizer's (null when they agree). */
  checkStep?: (optimizer: tf.Optimizer, step: number) => string | null;
}

export interface MethodDefinition {
  /** The name in optimizer specs and the CLI (`gsam`). */
  name: string;
  /** The name in tables, plots and the demo (`GSAM`). */
  title: string;
  /** One line: what the method changes. */
  summary: string;
  /** The paper, e.g. `Zhuang et al., ICLR 2022`. */
  paper: string;
  /** Its options, with defaults and ranges. */
  options: OptionSchema;
  /** Options this entry fixes over the schema's defaults (ASAM: `adaptive: true`). */
  fixed?: Readonly<Record<string, unknown>>;
  create(base: tf.Optimizer, options: Record<string, unknown>): tf.Optimizer;
  /** Forward/backward passes per step, in units of a plain step, for these (resolved) options. */
  passes(options: Readonly<Record<string, unknown>>): number;
  /** Defaults that depend on the run (a spec's own options override them). */
  runDefaults?(run: RunContext): Record<string, unknown>;
  /**
   * For a method that selects examples (`capabilities.dataSelection`): the option holding the
   * fraction of the batch its second pass trains on. At 1 it selects nothing and trains under
   * `model.fit` (ESAM: `gamma`).
   */
  selectionFraction?: string;
  /** The base optimizers it works with (default: any). */
  bases?: readonly string[];
  /** It perturbs normalization layers only: a model without them cannot train with it. */
  needsNormalizationLayers?: boolean;
  /** It applies coupled weight decay itself (MSAM, at the held point): its base gets none. */
  ownsWeightDecay?: boolean;
  /** Steps after which its schedule repeats (LookSAM: k), so that timings cover whole cycles. */
  cycle?(options: Readonly<Record<string, unknown>>): number;
  /** Settings worth benchmarking or showing besides the defaults, e.g. `{ascentSteps: 2}`. */
  variants?: ReadonlyArray<Readonly<Record<string, unknown>>>;
  /** How a case of the official code's reference trajectories maps onto this method. */
  replay?(referenceCase: ReferenceCase): ReferenceReplay;
}
