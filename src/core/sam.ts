/**
 * Sharpness-Aware Minimization (Foret et al. 2021) around any tfjs optimizer, and the
 * orchestration every variant of the family reuses.
 *
 * One step: g = ∇L(w); ε = ρ·g/‖g‖ (ASAM: ρ·T²g/‖Tg‖), optionally in k ascent steps of ρ/k;
 * g_sam = ∇L(w + ε); restore w from a snapshot; the base optimizer applies g_sam at w. Works under
 * `model.fit` (it overrides `minimize`) and in custom loops (`firstStep`/`secondStep`, or `step`).
 *
 * Variants subclass `SAM` and override the protected hooks (`ascentDirection`,
 * `perturbedMask`, `perturbation`, `usesPerturbedPass`, `unperturbedUpdate`, `update`,
 * `afterApply`), keep per-variable state in `this.state`, and add their options to `getConfig`
 * through `variantConfig`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import {
  adaptivePerturbation,
  isScaleLikeVariable,
  samPerturbation,
} from '../math/perturbation.js';
import { clipByGlobalNorm, finiteProbe } from '../math/tree.js';
import { gradientList, type VariableGradient } from '../optimizers/gradients.js';
import {
  accumulatedPowers,
  deserializeOptimizer,
  disposeOptimizer,
  getLearningRate,
  isOptimizer,
  restoreAccumulatedPowers,
  serializeOptimizer,
  setLearningRate,
} from '../optimizers/registry.js';
import type { NamedSlots } from '../optimizers/slots.js';
import { NonTrainableRecorder, collectKeptScalars } from './state-guard.js';
import {
  checkBoolean,
  checkChoice,
  checkFunction,
  checkKnownOptions,
  checkNumber,
} from '../util/validate.js';

export type NonFinitePolicy = 'throw' | 'skip';
export type AdaptiveScope = 'weights' | 'all';

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

/** What the hooks of a step see. Tensors belong to the step; hooks must not dispose them. */
export interface StepContext {
  /** Number of steps applied before this one. */
  iteration: number;
  rho: number;
  /** The variables the base trains this step, in order (those given a first-pass gradient). */
  variables: tf.Variable[];
  /** ∇L(w); present only when the variant sets `keepsFirstGradients`. */
  firstGradients: tf.Tensor[] | null;
  /** w_k − w, the total ascent; present only when the variant sets `keepsPerturbation`. */
  perturbation: tf.Tensor[] | null;
  /** ∇L(w_k), the gradient at the perturbed point. */
  perturbedGradients: tf.Tensor[];
  /** The loss closure, when the step was run by `step`/`minimize` (null in the two-call API). */
  lossFn: (() => tf.Scalar) | null;
}

const SAM_OPTION_NAMES = [
  'rho',
  'adaptive',
  'eta',
  'adaptiveScope',
  'ascentSteps',
  'epsilon',
  'clipNorm',
  'nonFinite',
  'rhoSchedule',
  'onSkip',
] as const;
const BASE_PREFIX = 'base/';
const OWN_PREFIX = 'sam/';
const STATE_PREFIX = 'sam/state/';
const SCALAR_PREFIX = 'sam/scalar/';

interface StepInProgress {
  /** A step that needs no second pass (skipped, or a variant's one-pass step). */
  complete: boolean;
  rho: number;
  iteration: number;
  variables: tf.Variable[];
  /** The variables the second pass's gradients train (a superset of `variables`, ESAM). */
  trained: tf.Variable[];
  originals: tf.Tensor[];
  perturbedDataIds: unknown[];
  recorder: NonTrainableRecorder;
  firstGradients: tf.Tensor[] | null;
}

export class SAM extends tf.Optimizer {
  static get className(): string {
    return 'SAM';
  }

  readonly base: tf.Optimizer;
  rho: number;
  readonly adaptive: boolean;
  readonly eta: number;
  readonly adaptiveScope: AdaptiveScope;
  readonly ascentSteps: number;
  readonly epsilon: number;
  readonly clipNorm: number | null;
  readonly nonFinite: NonFinitePolicy;
  rhoSchedule: RhoSchedule | null;
  onSkip: ((skipped: SkippedStep) => void) | null;
  /** Steps skipped under `nonFinite: 'skip'`. */
  skippedSteps = 0;

  /** Per-variable state of a variant (saved and restored with the optimizer). */
  protected state: NamedSlots | null = null;
  /** Variants that need ∇L(w) after the second pass set this (it costs one gradient copy). */
  protected keepsFirstGradients = false;
  /** Variants that need w_k − w after the second pass set this. */
  protected keepsPerturbation = false;

  private inProgress: StepInProgress | null = null;
  /** Metric scalars a second pass of a tfjs-layers loss closure kept; freed at the next step. */
  private pendingKept: tf.Tensor[] = [];
  /** The order gradients are handed to the base (tfjs-core optimizers index state by position). */
  private readonly gradientOrder = new Map<string, number>();

  constructor(base: tf.Optimizer, options: SamOptions = {}) {
    super();
    const owner = (new.target as typeof SAM).className;
    if (!isOptimizer(base)) {
      throw new Error(
        `${owner}: the first argument must be a tfjs optimizer (e.g. tf.train.sgd(0.1)); got ${String(base)}.`,
      );
    }
    if (Object.prototype.isPrototypeOf.call(SAM.prototype, base)) {
      throw new Error(
        `${owner}: the base optimizer is itself a sharpness-aware optimizer (${base.getClassName()}); wrap a plain optimizer instead.`,
      );
    }
    checkKnownOptions(owner, options, SAM_OPTION_NAMES);
    this.base = base;
    this.adaptive = checkBoolean(owner, 'adaptive', options.adaptive ?? false);
    this.rho = checkNumber(owner, 'rho', options.rho ?? (this.adaptive ? 0.5 : 0.05), { min: 0 });
    this.eta = checkNumber(owner, 'eta', options.eta ?? 0.01, { min: 0 });
    this.adaptiveScope = checkChoice(owner, 'adaptiveScope', options.adaptiveScope ?? 'weights', [
      'weights',
      'all',
    ]);
    this.ascentSteps = checkNumber(owner, 'ascentSteps', options.ascentSteps ?? 1, {
      min: 1,
      integer: true,
    });
    this.epsilon = checkNumber(owner, 'epsilon', options.epsilon ?? 1e-12, {
      min: 0,
      minInclusive: false,
    });
    this.clipNorm =
      options.clipNorm == null
        ? null
        : checkNumber(owner, 'clipNorm', options.clipNorm, { min: 0, minInclusive: false });
    this.nonFinite = checkChoice(owner, 'nonFinite', options.nonFinite ?? 'throw', [
      'throw',
      'skip',
    ]);
    this.rhoSchedule =
      options.rhoSchedule == null
        ? null
        : checkFunction<RhoSchedule>(owner, 'rhoSchedule', options.rhoSchedule);
    this.onSkip =
      options.onSkip == null
        ? null
        : checkFunction<(s: SkippedStep) => void>(owner, 'onSkip', options.onSkip);
  }

  private get owner(): string {
    return this.getClassName();
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
  protected perturbedMask(variables: readonly tf.Variable[]): boolean[] {
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
    const mask = this.perturbedMask(variables);
    const chosen = variables.map((_, i) => i).filter((i) => mask[i]);
    const chosenVariables = chosen.map((i) => variables[i] as tf.Variable);
    const direction = this.ascentDirection(
      chosenVariables,
      chosen.map((i) => gradients[i] as tf.Tensor),
    );
    const epsilons = this.adaptive
      ? adaptivePerturbation(
          direction,
          chosenVariables,
          chosenVariables.map((v) => this.adaptiveScope === 'all' || isScaleLikeVariable(v.name)),
          rho,
          this.eta,
          this.epsilon,
        )
      : samPerturbation(direction, rho, this.epsilon);
    disposeUnlessIn(direction, gradients);
    const out: Array<tf.Tensor | null> = variables.map(() => null);
    chosen.forEach((i, j) => (out[i] = epsilons[j] as tf.Tensor));
    return out;
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

  /** A variant's serializable options, merged into `getConfig()`. */
  protected variantConfig(): tf.serialization.ConfigDict {
    return {};
  }

  /** A variant's scalar state (saved as `sam/scalar/<name>`). */
  protected scalarState(): Record<string, number> {
    return {};
  }

  protected restoreScalarState(_values: Record<string, number>): void {}

  /**
   * A forward-only evaluation of `lossFn` for a variant's search (XSAM's α grid): assignments to
   * non-trainable variables are undone and kept metric scalars are freed at the next step.
   */
  protected evaluateLoss(lossFn: () => tf.Scalar): number {
    const recorder = new NonTrainableRecorder();
    recorder.start();
    try {
      const { result, kept } = collectKeptScalars(() => tf.tidy(lossFn));
      this.pendingKept.push(...kept);
      const value = result.dataSync()[0] as number;
      result.dispose();
      return value;
    } finally {
      recorder.restore();
    }
  }

  // ---------------------------------------------------------------- one-call step

  /**
   * `model.fit` entry point: a full step on `f`. Returns the loss at the unperturbed weights
   * (the same value a plain optimizer would report).
   */
  override minimize(
    f: () => tf.Scalar,
    returnCost = false,
    varList?: tf.Variable[],
  ): tf.Scalar | null {
    const loss = this.step(f, varList);
    if (returnCost) return loss;
    loss.dispose();
    return null;
  }

  /**
   * Custom-loop one-call step: the forward/backward passes of `lossFn` and the base update.
   * Returns the loss at w (the caller disposes it). `varList` defaults to every trainable variable.
   */
  step(lossFn: () => tf.Scalar, varList?: tf.Variable[]): tf.Scalar {
    this.releasePendingKept();
    const variables = varList ?? trainableVariables();
    const firstVariables = this.keepsPlainUpdate ? this.firstPassVariables(variables) : variables;
    const firstPassGuard = this.nonFinite === 'skip' ? new NonTrainableRecorder() : null;
    firstPassGuard?.start();
    let firstPass: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      firstPass = tf.variableGrads(lossFn, firstVariables);
    } finally {
      firstPassGuard?.stop();
    }
    const loss = firstPass.value;
    const revertFirstPass = () => firstPassGuard?.restore();
    try {
      const needsSecondPass = this.beginStep(
        gradientList(firstPass.grads, this.owner),
        loss,
        lossFn,
        revertFirstPass,
        true,
        firstVariables === variables ? null : variables,
      );
      if (needsSecondPass) {
        let secondPass: { value: tf.Scalar; grads: tf.NamedTensorMap };
        try {
          secondPass = this.guardedGradients(lossFn, variables);
        } catch (error) {
          this.abortStep();
          revertFirstPass();
          throw error;
        }
        try {
          this.finishStep(
            gradientList(secondPass.grads, this.owner),
            secondPass.value,
            lossFn,
            revertFirstPass,
          );
        } finally {
          tf.dispose([secondPass.value, ...Object.values(secondPass.grads)]);
        }
      }
    } catch (error) {
      loss.dispose();
      throw error;
    } finally {
      this.inProgress = null;
      firstPassGuard?.discard();
    }
    return loss;
  }

  /** Whether `stepMSharpness` can run: the variant does not change SAM's update. */
  get supportsMSharpness(): boolean {
    return this.keepsPlainUpdate;
  }

  /** The base receives the perturbed gradients as they are (no variant update or state). */
  private get keepsPlainUpdate(): boolean {
    const proto = Object.getPrototypeOf(this) as SAM;
    return !(
      proto.update !== SAM.prototype.update ||
      proto.afterApply !== SAM.prototype.afterApply ||
      proto.usesPerturbedPass !== SAM.prototype.usesPerturbedPass ||
      this.keepsFirstGradients ||
      this.keepsPerturbation
    );
  }

  /**
   * m-sharpness (Foret et al. 2021, §4.1): one perturbation per part of the batch, each from that
   * part's own gradient, and the base applies the MEAN of the parts' perturbed gradients (a sum
   * would scale the step by m for mean losses). `partLossFns[j]` is the mean loss of part j.
   * Returns the mean of the parts' losses at w. For SAM, ASAM, SAM-ON and ESAM's weight
   * perturbation; variants that change the update (GSAM, WSAM, LookSAM, F-SAM, XSAM) refuse it.
   */
  stepMSharpness(partLossFns: ReadonlyArray<() => tf.Scalar>, varList?: tf.Variable[]): tf.Scalar {
    const owner = this.owner;
    if (!Array.isArray(partLossFns) || partLossFns.length < 1) {
      throw new Error(
        `${owner}.stepMSharpness(): expected a non-empty array of part loss functions; got ${String(partLossFns)}.`,
      );
    }
    const changesUpdate = !this.supportsMSharpness;
    if (changesUpdate) {
      throw new Error(
        `${owner}.stepMSharpness(): ${owner} changes the update itself, so per-part perturbations cannot be averaged into it. ` +
          'm-sharpness works with SAM, ASAM, SAM-ON and ESAM (gamma 1); use step(lossFn) for this method.',
      );
    }
    if (this.ascentSteps > 1) {
      throw new Error(
        `${owner}.stepMSharpness(): ascentSteps is ${this.ascentSteps}; m-sharpness takes one ascent step per part. Use ascentSteps: 1.`,
      );
    }
    this.releasePendingKept();
    const variables = varList ?? trainableVariables();
    const rho = this.currentRho();
    const parts = partLossFns.length;
    const sums: tf.Tensor[] = variables.map((v) => tf.zerosLike(v));
    const losses: tf.Scalar[] = [];
    try {
      for (const partLoss of partLossFns) {
        const first = tf.variableGrads(partLoss, variables);
        losses.push(first.value);
        const grads = variables.map((v) => first.grads[v.name] ?? tf.zerosLike(v));
        const originals = variables.map((v) => tf.keep(tf.clone(v)));
        const recorder = new NonTrainableRecorder();
        try {
          this.moveAlong(variables, grads, rho);
          tf.dispose([...grads, ...Object.values(first.grads)]);
          recorder.start();
          const second = this.guardedGradients(partLoss, variables);
          recorder.restore();
          second.value.dispose();
          variables.forEach((v, i) => {
            const g = second.grads[v.name];
            if (g === undefined) return;
            const previous = sums[i] as tf.Tensor;
            sums[i] = tf.add(previous, g);
            previous.dispose();
          });
          tf.dispose(Object.values(second.grads));
        } finally {
          recorder.restore();
          variables.forEach((v, i) => v.assign(originals[i] as tf.Tensor));
          tf.dispose(originals);
        }
      }
      const mean = tf.tidy(() => sums.map((t) => tf.div(t, parts)));
      this.applyToBase(variables, mean);
      tf.dispose(mean);
      return tf.tidy(() => tf.div(tf.addN(losses), parts) as tf.Scalar);
    } finally {
      tf.dispose([...sums, ...losses]);
    }
  }

  /**
   * ρ of the step about to run (the schedule's value when one is set), for callers that compute
   * the perturbations elsewhere, e.g. the workers of a data-parallel step (src/parallel).
   */
  rhoForNextStep(): number {
    return this.currentRho();
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
    if (this.inProgress !== null && !this.inProgress.complete) {
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
    if (!needsSecondPass) this.inProgress = completedStep();
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
    if (this.inProgress.complete) {
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

  /** Whether `firstStep` has perturbed the weights and `secondStep` has not yet restored them. */
  get isPerturbed(): boolean {
    return this.inProgress !== null && !this.inProgress.complete;
  }

  // ---------------------------------------------------------------- internals of a step

  /**
   * Checks the first pass, then either completes a one-pass step (returns false) or moves the
   * weights to w_k and leaves `inProgress` set (returns true). Takes ownership of `gradients`.
   */
  private beginStep(
    gradients: VariableGradient[],
    loss: tf.Scalar | null,
    lossFn: (() => tf.Scalar) | null,
    revertFirstPass: () => void,
    ownsGradients = true,
    trained: tf.Variable[] | null = null,
  ): boolean {
    const grads = gradients.map((g) => g.gradient);
    const release = () => {
      if (ownsGradients) tf.dispose(grads);
    };
    const variables = gradients.map((g) => g.variable);
    this.state?.bind(variables);
    const problem = this.nonFiniteProblem(loss, gradients, 'at the current weights (first pass)');
    if (problem !== null) {
      release();
      this.handleNonFinite(problem, revertFirstPass);
      return false;
    }
    const iteration = this.iterations;
    const rho = this.currentRho();
    const narrowed = trained !== null;
    if (narrowed && (rho === 0 || !this.usesPerturbedPass(iteration))) {
      release();
      throw new Error(
        `${this.owner}: the first pass computed gradients for ${variables.length} of ${trained.length} variables, but this step (rho ${rho}) has no second pass to train the others. ` +
          'Narrow the first pass only on steps with a perturbation.',
      );
    }
    if (rho === 0 || !this.usesPerturbedPass(iteration)) {
      const update = rho === 0 ? grads : this.unperturbedUpdate(iteration, variables, grads);
      this.applyToBase(variables, update);
      disposeUnlessIn(update, grads);
      release();
      return false;
    }
    const originals = variables.map((v) => tf.keep(tf.clone(v)));
    const recorder = new NonTrainableRecorder();
    this.inProgress = {
      complete: false,
      rho,
      iteration,
      variables,
      trained: narrowed ? (trained as tf.Variable[]) : variables,
      originals,
      perturbedDataIds: [],
      recorder,
      firstGradients: this.keepsFirstGradients
        ? grads.map((g) => tf.keep(ownsGradients ? g : tf.clone(g)))
        : null,
    };
    let current = grads;
    try {
      for (let ascent = 0; ascent < this.ascentSteps; ascent++) {
        this.moveAlong(variables, current, rho / this.ascentSteps);
        if (current !== grads) tf.dispose(current);
        if (ascent === this.ascentSteps - 1) break;
        recorder.start();
        const intermediate = this.guardedGradients(lossFn as () => tf.Scalar, variables);
        recorder.stop();
        intermediate.value.dispose();
        current = variables.map((v) => intermediate.grads[v.name] ?? tf.zerosLike(v));
      }
    } catch (error) {
      recorder.stop();
      this.abortStep();
      revertFirstPass();
      throw error;
    } finally {
      if (!this.keepsFirstGradients) release();
    }
    this.inProgress.perturbedDataIds = variables.map((v) => v.dataId);
    recorder.start();
    return true;
  }

  private moveAlong(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rho: number,
  ): void {
    const epsilons = this.perturbation(variables, gradients, rho);
    tf.tidy(() =>
      variables.forEach((v, i) => {
        const epsilon = epsilons[i];
        if (epsilon != null) v.assign(tf.add(v, epsilon));
      }),
    );
    tf.dispose(epsilons.filter((e): e is tf.Tensor => e !== null));
  }

  /** Gradients of `lossFn` whose kept metric scalars are freed at the next step. */
  private guardedGradients(
    lossFn: () => tf.Scalar,
    variables: tf.Variable[],
  ): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    const { result, kept } = collectKeptScalars(() => tf.variableGrads(lossFn, variables));
    this.pendingKept.push(...kept);
    return result;
  }

  /** Undoes the perturbation and the recorded non-trainable assignments. */
  private abortStep(): StepInProgress | null {
    const state = this.inProgress;
    this.inProgress = null;
    if (state === null || state.complete) return null;
    state.recorder.restore();
    state.variables.forEach((v, i) => {
      if (!v.isDisposed) v.assign(state.originals[i] as tf.Tensor);
    });
    tf.dispose(state.originals);
    return state;
  }

  private finishStep(
    gradients: readonly VariableGradient[],
    loss: tf.Scalar | null,
    lossFn: (() => tf.Scalar) | null,
    revertFirstPass: () => void,
  ): boolean {
    const state = this.inProgress as StepInProgress;
    const changed = state.variables
      .filter((v, i) => v.isDisposed || v.dataId !== state.perturbedDataIds[i])
      .map((v) => v.name);
    const perturbation = this.keepsPerturbation
      ? tf.tidy(() => state.variables.map((v, i) => tf.sub(v, state.originals[i] as tf.Tensor)))
      : null;
    this.abortStep();
    const byName = new Map(gradients.map((g) => [g.variable.name, g.gradient]));
    // A variable the first pass skipped and the loss does not reach has no gradient to apply.
    const perturbed = new Set(state.variables);
    const trained = state.trained.filter((v) => perturbed.has(v) || byName.has(v.name));
    const perturbedGradients = trained.map((v) => byName.get(v.name) ?? null);
    const release = () => tf.dispose([...(state.firstGradients ?? []), ...(perturbation ?? [])]);
    if (changed.length > 0) {
      release();
      revertFirstPass();
      throw new Error(
        `${this.owner}.secondStep(): ${changed.join(', ')} changed between firstStep() and secondStep(). ` +
          'The weights were restored to their values before firstStep() and no update was applied. ' +
          'Do not assign to or update the trainable variables between the two calls.',
      );
    }
    const missing = trained.filter((_, i) => perturbedGradients[i] === null);
    const problem =
      missing.length > 0
        ? `no gradient for '${missing[0]?.name}' at the perturbed weights`
        : this.nonFiniteProblem(loss, gradients, 'at the perturbed weights (second pass)');
    if (problem !== null) {
      release();
      if (missing.length > 0) {
        throw new Error(
          `${this.owner}.secondStep(): ${problem}; pass the gradients of every variable given to firstStep().`,
        );
      }
      this.handleNonFinite(problem, revertFirstPass);
      return false;
    }
    const context: StepContext = {
      iteration: state.iteration,
      rho: state.rho,
      variables: trained,
      firstGradients: state.firstGradients,
      perturbation,
      perturbedGradients: perturbedGradients as tf.Tensor[],
      lossFn,
    };
    try {
      const update = this.update(context);
      this.applyToBase(trained, update);
      disposeUnlessIn(update, [
        ...context.perturbedGradients,
        ...(context.firstGradients ?? []),
        ...(context.perturbation ?? []),
      ]);
      this.afterApply(context);
    } finally {
      release();
    }
    return true;
  }

  private applyToBase(variables: readonly tf.Variable[], update: readonly tf.Tensor[]): void {
    const clipped =
      this.clipNorm === null ? null : clipByGlobalNorm(update, this.clipNorm, this.epsilon);
    const byName = new Map<string, tf.Tensor>();
    variables.forEach((v, i) => {
      if (!this.gradientOrder.has(v.name)) this.gradientOrder.set(v.name, this.gradientOrder.size);
      byName.set(v.name, (clipped ?? update)[i] as tf.Tensor);
    });
    const ordered = [...this.gradientOrder.keys()].map((name) => ({
      name,
      tensor: byName.get(name) ?? (null as unknown as tf.Tensor),
    }));
    this.base.applyGradients(ordered);
    if (clipped !== null) tf.dispose(clipped);
    this.incrementIterations();
  }

  private nonFiniteProblem(
    loss: tf.Scalar | null,
    gradients: readonly VariableGradient[],
    where: string,
  ): string | null {
    const tensors = gradients.map((g) => g.gradient);
    const probe = finiteProbe(loss === null ? tensors : [loss, ...tensors]);
    const ok = Number.isFinite(probe.dataSync()[0]);
    probe.dispose();
    if (ok) return null;
    if (loss !== null && !Number.isFinite(loss.dataSync()[0])) {
      return `the loss ${where} is ${loss.dataSync()[0]}`;
    }
    const bad = gradients.find((g) => {
      const p = finiteProbe([g.gradient]);
      const finite = Number.isFinite(p.dataSync()[0]);
      p.dispose();
      return !finite;
    });
    return `the gradient of '${bad?.variable.name ?? '?'}' ${where} has NaN or Inf values`;
  }

  private handleNonFinite(problem: string, revert: () => void): void {
    const step = this.iterations + this.skippedSteps;
    revert();
    if (this.nonFinite === 'throw') {
      throw new Error(
        `${this.owner}: non-finite values at step ${step}: ${problem}. The weights and optimizer state were left ` +
          "as they were before the step. Lower the learning rate or rho, check the inputs, or pass nonFinite: 'skip' " +
          'to skip such steps.',
      );
    }
    this.skippedSteps += 1;
    this.onSkip?.({ step, reason: problem });
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

  private releasePendingKept(): void {
    tf.dispose(this.pendingKept);
    this.pendingKept = [];
  }

  // ---------------------------------------------------------------- plain optimizer surface

  /** Applies gradients with the base optimizer, without any perturbation. */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = gradientList(variableGradients, this.owner);
    this.applyToBase(
      list.map((g) => g.variable),
      list.map((g) => g.gradient),
    );
  }

  getLearningRate(): number {
    return getLearningRate(this.base);
  }

  setLearningRate(learningRate: number): void {
    setLearningRate(this.base, learningRate);
  }

  /** Frees this optimizer's state and the base optimizer's; restores the weights if a step is half done. */
  override dispose(): void {
    this.abortStep();
    this.releasePendingKept();
    this.state?.dispose();
    disposeOptimizer(this.base);
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const baseWeights = await this.base.getWeights();
    const scalars = { skippedSteps: this.skippedSteps, ...this.scalarState() };
    return [
      await this.saveIterations(),
      ...Object.entries(scalars).map(([name, value]) => ({
        name: `${SCALAR_PREFIX}${name}`,
        tensor: tf.scalar(value, 'float32'),
      })),
      ...(this.state?.toNamedTensors(STATE_PREFIX) ?? []),
      ...accumulatedPowers(this.base).map((w) => ({
        name: `${OWN_PREFIX}base/${w.name}`,
        tensor: w.tensor,
      })),
      ...baseWeights.map((w) => ({ name: `${BASE_PREFIX}${w.name}`, tensor: w.tensor })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const iteration = weightValues.find((w) => w.name === 'iter');
    if (iteration !== undefined) this.iterations_ = (await iteration.tensor.data())[0] as number;
    const scalars: Record<string, number> = {};
    for (const w of weightValues.filter((v) => v.name.startsWith(SCALAR_PREFIX))) {
      scalars[w.name.slice(SCALAR_PREFIX.length)] = (await w.tensor.data())[0] as number;
    }
    if (scalars['skippedSteps'] !== undefined) this.skippedSteps = scalars['skippedSteps'];
    this.restoreScalarState(scalars);
    this.state?.load(
      weightValues.filter((w) => w.name.startsWith(STATE_PREFIX)),
      STATE_PREFIX,
    );
    const baseWeights = weightValues
      .filter((w) => w.name.startsWith(BASE_PREFIX))
      .map((w) => ({ name: w.name.slice(BASE_PREFIX.length), tensor: w.tensor }));
    if (baseWeights.length > 0) await this.base.setWeights(baseWeights);
    restoreAccumulatedPowers(
      this.base,
      weightValues
        .filter((w) => w.name.startsWith(`${OWN_PREFIX}base/`))
        .map((w) => ({ name: w.name.slice(`${OWN_PREFIX}base/`.length), tensor: w.tensor })),
    );
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      rho: this.rho,
      adaptive: this.adaptive,
      eta: this.eta,
      adaptiveScope: this.adaptiveScope,
      ascentSteps: this.ascentSteps,
      epsilon: this.epsilon,
      clipNorm: this.clipNorm,
      nonFinite: this.nonFinite,
      ...this.variantConfig(),
      base: serializeOptimizer(this.base) as unknown as tf.serialization.ConfigDict,
    };
  }

  /** Rebuilds any SAM-family optimizer: every config key but `base` is passed as an option. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const base = deserializeOptimizer(config['base'], cls.className);
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
      if (key !== 'base' && key !== 'customObjects' && value != null) options[key] = value;
    }
    return new cls(base, options);
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

function trainableVariables(): tf.Variable[] {
  return Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
}

/** Disposes the tensors of `tensors` that are not among `keep` (hooks may pass inputs through). */
function disposeUnlessIn(tensors: readonly tf.Tensor[], keep: readonly tf.Tensor[]): void {
  const kept = new Set(keep);
  for (const t of tensors) if (!kept.has(t)) t.dispose();
}

function completedStep(): StepInProgress {
  return {
    complete: true,
    rho: 0,
    iteration: 0,
    variables: [],
    trained: [],
    originals: [],
    perturbedDataIds: [],
    recorder: new NonTrainableRecorder(),
    firstGradients: null,
  };
}
