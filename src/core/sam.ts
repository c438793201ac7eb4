/**
 * Sharpness-Aware Minimization (Foret et al. 2021) around any tfjs optimizer.
 *
 * One step: g = ∇L(w); ε = ρ·g/‖g‖ (ASAM: ρ·T²g/‖Tg‖), optionally in k ascent steps of ρ/k;
 * g_sam = ∇L(w + ε); restore w from a snapshot; the base optimizer applies g_sam at w. Works under
 * `model.fit` (it overrides `minimize`) and in custom loops (`firstStep`/`secondStep`, or `step`);
 * the passes are orchestrated by `TwoPassOptimizer` (src/core/two-pass.ts).
 *
 * A variant subclasses `SAM`, passes its option schema to the constructor, overrides the hooks
 * it changes (`ascentDirection`, `perturbedMask`, `perturbation`, `firstPassVariables`,
 * `usesPerturbedPass`, `unperturbedUpdate`, `update`, `afterApply`), keeps per-variable state in
 * `this.state`, and declares what its step supports in `capabilities`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import { checkNumber } from '../util/validate.js';
import type { OptionSchema } from '../util/options.js';
import {
  isScaleLikeVariable,
  maskedPerturbation,
  type PerturbationPlan,
} from '../math/perturbation.js';
import { clipByGlobalNorm } from '../math/tree.js';
import { gradientList, trainableVariables } from '../optimizers/gradients.js';
import { isSharpnessAware, type Capabilities, type SharpnessAware } from './method.js';
import { accumulatingSource, meanPerturbedGradients, type BatchPart } from './accumulation.js';
import {
  SAM_OPTIONS,
  type AdaptiveScaling,
  type AdaptiveScope,
  type AscentNorm,
  type NonFinitePolicy,
  type RhoSchedule,
  type SamOptions,
  type SkippedStep,
} from './sam-options.js';
import { NonTrainableRecorder, collectKeptScalars } from './state-guard.js';
import { TwoPassOptimizer, type StepContext } from './two-pass.js';

export type {
  AdaptiveScaling,
  AdaptiveScope,
  AscentNorm,
  NonFinitePolicy,
  RhoSchedule,
  SamOptions,
  SkippedStep,
  StepContext,
};

export class SAM extends TwoPassOptimizer implements SharpnessAware {
  static get className(): string {
    return 'SAM';
  }

  rho: number;
  readonly adaptive: boolean;
  readonly eta: number;
  readonly adaptiveScope: AdaptiveScope;
  readonly adaptiveScaling: AdaptiveScaling;
  readonly ascentNorm: AscentNorm;
  readonly epsilon: number;
  readonly clipNorm: number | null;
  rhoSchedule: RhoSchedule | null;

  /** `schema`: a variant's options (SAM's and its own); SAM's alone by default. */
  constructor(base: tf.Optimizer, options: SamOptions = {}, schema: OptionSchema = SAM_OPTIONS) {
    const owner = (new.target as typeof SAM).className;
    super(base, options, schema, { owner, prefix: 'sam/' });
    if (isSharpnessAware(base)) {
      throw new Error(
        `${owner}: the base optimizer is itself a sharpness-aware optimizer (${base.getClassName()}); wrap a plain optimizer instead.`,
      );
    }
    const o = this.options<SamOptions>();
    this.rho = o.rho;
    this.adaptive = o.adaptive;
    this.eta = o.eta;
    this.adaptiveScope = o.adaptiveScope;
    this.adaptiveScaling = o.adaptiveScaling;
    this.ascentNorm = o.ascentNorm;
    this.epsilon = o.epsilon;
    this.clipNorm = o.clipNorm;
    this.rhoSchedule = o.rhoSchedule;
  }

  /**
   * What this step can be split into: m-sharpness and data-parallel slices need SAM's own update
   * and one ascent step. A variant that changes the update (overrides `update`, `afterApply`,
   * `usesPerturbedPass`, or keeps first gradients or the perturbation) declares fewer; one that
   * changes ε (`perturbation`, `ascentDirection`) turns `dataParallel` off, since data-parallel
   * replicas perturb by `perturbationPlan`.
   */
  get capabilities(): Capabilities {
    const oneAscent = this.ascentSteps === 1;
    return {
      mSharpness: oneAscent,
      dataParallel: oneAscent,
      dataSelection: false,
      previousBatch: false,
      gradientAccumulation: true,
    };
  }

  /**
   * Which variables a step perturbs and how: the mask of `perturbedMask`, ASAM's scaling. The
   * data-parallel replicas (src/parallel) perturb by the same plan.
   */
  perturbationPlan(variables: readonly { name: string }[]): PerturbationPlan {
    return {
      perturbedMask: this.perturbedMask(variables),
      adaptive: this.adaptive,
      adaptiveMask: variables.map(
        (v) => this.adaptiveScope === 'all' || isScaleLikeVariable(v.name),
      ),
      adaptiveScaling: this.adaptiveScaling,
      norm: this.ascentNorm,
      eta: this.eta,
      epsilon: this.epsilon,
    };
  }

  // ---------------------------------------------------------------- hooks for variants

  /** The direction to ascend along, from the gradients at the current point (F-SAM). */
  protected ascentDirection(
    _variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
  ): readonly tf.Tensor[] {
    return gradients;
  }

  /** Which variables are perturbed this step (SAM-ON: normalization layers; ESAM: a random subset). */
  protected perturbedMask(variables: readonly { name: string }[]): boolean[] {
    return variables.map(() => true);
  }

  /**
   * ε for one ascent step of radius `rho`, one tensor per variable (null: not perturbed).
   * Normalized over the perturbed variables only; ASAM-scaled when `adaptive`.
   */
  protected perturbation(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rho: number,
  ): Array<tf.Tensor | null> {
    const plan = this.perturbationPlan(variables);
    if (!plan.perturbedMask.some(Boolean)) {
      throw new Error(`${this.owner}: ${this.noPerturbedVariables(variables, 'step')}`);
    }
    return maskedPerturbation(variables, gradients, plan, rho, (v, g) =>
      this.ascentDirection(v, g),
    );
  }

  /**
   * Why `perturbedMask` left every variable out, and what to do: of a step's variables (`step`)
   * or of a model's (`model`, for the data-parallel replicas).
   */
  noPerturbedVariables(variables: readonly { name: string }[], of: 'step' | 'model'): string {
    return `none of the ${of === 'model' ? "model's " : ''}${variables.length} variables is perturbed by ${this.owner}; pass variables it perturbs.`;
  }

  /**
   * The variables whose gradients the first pass of `step` computes, and which are perturbed
   * (ESAM: a random subset, so the first backward pass skips the others' weight gradients). The
   * second pass still trains all of `variables`. Only methods with SAM's own update may narrow it.
   */
  protected firstPassVariables(variables: tf.Variable[]): tf.Variable[] {
    return variables;
  }

  /** Whether this step takes the perturbed pass (LookSAM reuses an old direction in between). */
  protected usesPerturbedPass(_iteration: number): boolean {
    return true;
  }

  /** The gradient handed to the base on a step without perturbed pass (tensors may be reused). */
  protected unperturbedUpdate(
    _iteration: number,
    _variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
  ): readonly tf.Tensor[] {
    return gradients;
  }

  /** The gradient handed to the base after the perturbed pass (GSAM, WSAM, XSAM, …). */
  protected update(context: StepContext): readonly tf.Tensor[] {
    return context.perturbedGradients;
  }

  /** Runs after the base optimizer applied the update (WSAM's decoupled sharpness step). */
  protected afterApply(_context: StepContext): void {}

  /**
   * A forward-only evaluation of `lossFn` for a variant's search (XSAM's α grid): assignments to
   * non-trainable variables are undone and kept metric scalars are freed at the next step.
   */
  protected evaluateLoss(lossFn: () => tf.Scalar): number {
    const recorder = new NonTrainableRecorder();
    recorder.start();
    try {
      const { result, kept } = collectKeptScalars(() => tf.tidy(lossFn));
      this.keepUntilNextStep(kept);
      const value = result.dataSync()[0] as number;
      result.dispose();
      return value;
    } finally {
      recorder.restore();
    }
  }

  /** ρ for the step about to run: the schedule's value when one is set. */
  protected currentRho(): number {
    if (this.rhoSchedule === null) return this.rho;
    const rho = this.rhoSchedule({
      iteration: this.iterations,
      learningRate: this.getLearningRate(),
    });
    return checkNumber(this.owner, 'rhoSchedule(...) result', rho, { min: 0 });
  }

  /**
   * Gradient accumulation (src/core/accumulation.ts): one step over the parts of a batch swept one
   * at a time — the gradient at w accumulated over the parts (weighted by `size` where given), one
   * ε from it, the gradient at w + ε accumulated the same way, one update. Equal to `step` on the
   * whole batch up to float32 rounding, with one batch part's activations in memory at a time.
   * BatchNorm statistics are updated once per part in the first sweep, never in the second.
   * Returns the mean loss at w. For methods whose `capabilities.gradientAccumulation` is true.
   */
  stepAccumulated(parts: readonly BatchPart[], varList?: tf.Variable[]): tf.Scalar {
    const owner = `${this.owner}.stepAccumulated()`;
    if (!this.capabilities.gradientAccumulation) {
      throw new Error(
        `${owner}: ${this.owner} cannot accumulate its step over parts (its capabilities.gradientAccumulation is false); use step(lossFn) on the whole batch.`,
      );
    }
    const source = accumulatingSource(owner, parts, (fn, variables, later) =>
      later ? this.guardedGradients(fn, variables) : tf.variableGrads(fn, variables),
    );
    return this.runStep(source, varList);
  }

  /**
   * m-sharpness (Foret et al. 2021, §4.1, src/core/accumulation.ts): one perturbation per part of
   * the batch, the base applies the mean of the parts' perturbed gradients (weighted by `size`
   * where given). Each part is its mean loss. Returns the mean of the parts' losses at w. Only for
   * methods whose `capabilities.mSharpness` is true (SAM, ASAM, SAM-ON, ESAM's weight
   * perturbation).
   */
  stepMSharpness(partLossFns: readonly BatchPart[], varList?: tf.Variable[]): tf.Scalar {
    const owner = this.owner;
    if (!Array.isArray(partLossFns) || partLossFns.length < 1) {
      throw new Error(
        `${owner}.stepMSharpness(): expected a non-empty array of part loss functions; got ${String(partLossFns)}.`,
      );
    }
    if (this.ascentSteps > 1) {
      throw new Error(
        `${owner}.stepMSharpness(): ascentSteps is ${this.ascentSteps}; m-sharpness takes one ascent step per part. Use ascentSteps: 1.`,
      );
    }
    if (!this.capabilities.mSharpness) {
      throw new Error(
        `${owner}.stepMSharpness(): ${owner} changes the update itself, so per-part perturbations cannot be averaged into it ` +
          '(its capabilities.mSharpness is false); use step(lossFn) for this method.',
      );
    }
    this.releasePendingKept();
    const variables = varList ?? trainableVariables();
    const rho = this.stepRho();
    const { gradients, loss } = meanPerturbedGradients(
      `${owner}.stepMSharpness()`,
      partLossFns,
      variables,
      {
        perturb: (v, g) => this.moveAlong(v, g, rho),
        gradients: (f, v) => this.guardedGradients(f, v),
      },
    );
    try {
      this.applyToBase(variables, gradients);
    } catch (error) {
      loss.dispose();
      throw error;
    } finally {
      tf.dispose(gradients);
    }
    return loss;
  }

  /**
   * ρ of the step about to run (the schedule's value when one is set), for callers that compute
   * the perturbations elsewhere, e.g. the workers of a data-parallel step (src/parallel).
   */
  rhoForNextStep(): number {
    return this.stepRho();
  }

  /**
   * Ends an m-sharpness step whose parts were computed elsewhere (src/parallel): the base applies
   * `meanGradients`, the mean over parts of ∇L_j(w + ε_j), to `variables` (which must hold w), as at
   * the end of `stepMSharpness` (clipping, the base's gradient order, the iteration count).
   */
  applyPerturbedGradients(
    variables: readonly tf.Variable[],
    meanGradients: readonly tf.Tensor[],
  ): void {
    if (variables.length !== meanGradients.length) {
      throw new Error(
        `${this.owner}.applyPerturbedGradients(): got ${meanGradients.length} gradients for ${variables.length} variables; pass one per variable, in the same order.`,
      );
    }
    if (this.isPerturbed) {
      throw new Error(
        `${this.owner}.applyPerturbedGradients(): a step begun with firstStep() is still in progress; finish it with secondStep() first.`,
      );
    }
    this.applyToBase(variables, meanGradients);
  }

  // ---------------------------------------------------------------- two-call API

  /**
   * Moves the variables named in `gradients` (the gradients at w) to w + ε and remembers w.
   * Until `secondStep`, assignments to non-trainable variables (BatchNorm statistics) are
   * recorded and then undone. Returns whether a second pass is needed: false when the step was
   * skipped (non-finite gradient) or completed in one pass (rho 0, LookSAM's reuse steps);
   * `secondStep` is then a no-op.
   */
  firstStep(gradients: tf.NamedTensorMap | NamedTensor[]): boolean {
    return this.firstStepTraining(gradients, null);
  }

  /**
   * `firstStep` for a first pass that computed the gradients of a subset of the variables the
   * second pass trains (`trained`; null: the same variables). For variants' own loops (ESAM).
   */
  protected firstStepTraining(
    gradients: tf.NamedTensorMap | NamedTensor[],
    trained: tf.Variable[] | null,
  ): boolean {
    this.releasePendingKept();
    if (this.isPerturbed) {
      throw new Error(
        `${this.owner}.firstStep() was called twice without secondStep() between them; the weights are still perturbed. ` +
          'Call secondStep(gradientsAtPerturbedWeights) to finish the step first.',
      );
    }
    if (this.ascentSteps > 1) {
      throw new Error(
        `${this.owner}: ascentSteps is ${this.ascentSteps}; multi-step ascent needs the loss function. Use step(lossFn) or minimize(lossFn).`,
      );
    }
    this.inProgress = null;
    const list = gradientList(gradients, `${this.owner}.firstStep`);
    const needsSecondPass = this.beginStep(list, null, null, () => undefined, false, trained);
    if (!needsSecondPass) this.inProgress = 'complete';
    return needsSecondPass;
  }

  /**
   * Restores w and lets the base optimizer apply `gradients` (taken at w + ε). Returns false
   * when nothing was applied (a skipped step, or `firstStep` already completed the step).
   */
  secondStep(gradients: tf.NamedTensorMap | NamedTensor[]): boolean {
    if (this.inProgress === null) {
      throw new Error(
        `${this.owner}.secondStep() was called without a firstStep() before it. ` +
          'Call firstStep(gradientsAtW) first, or use step(lossFn), which does both passes.',
      );
    }
    if (this.inProgress === 'complete') {
      this.inProgress = null;
      return false;
    }
    const list = gradientList(gradients, `${this.owner}.secondStep`);
    try {
      return this.finishStep(list, null, null, () => undefined);
    } finally {
      this.inProgress = null;
    }
  }

  /**
   * Gives up a step begun with `firstStep` (e.g. when the second pass failed): restores w and the
   * non-trainable state; no update is applied. A no-op when no step is in progress.
   */
  abandonStep(): void {
    this.abortStep();
  }

  /** The base applies `update`, clipped to `clipNorm` when set. */
  protected override applyToBase(
    variables: readonly tf.Variable[],
    update: readonly tf.Tensor[],
    countStep = true,
  ): void {
    const clipped =
      this.clipNorm === null ? null : clipByGlobalNorm(update, this.clipNorm, this.epsilon);
    super.applyToBase(variables, clipped ?? update, countStep);
    if (clipped !== null) tf.dispose(clipped);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rho: this.rho };
  }
}

tf.serialization.registerClass(SAM);

/** `sam(tf.train.momentum(0.1, 0.9), {rho: 0.05})` — SAM around any tfjs optimizer. */
export function sam(base: tf.Optimizer, options: SamOptions = {}): SAM {
  return new SAM(base, options);
}

/** ASAM: `sam(base, {adaptive: true, ...})` with ASAM's defaults (ρ 0.5, η 0.01). */
export function asam(base: tf.Optimizer, options: Omit<SamOptions, 'adaptive'> = {}): SAM {
  return new SAM(base, { ...options, adaptive: true });
}
