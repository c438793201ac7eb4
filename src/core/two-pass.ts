/**
 * The orchestration of a sharpness-aware step's passes, for SAM and every variant: the first pass
 * at w; a snapshot of w; the move to the perturbed point w_k (in `ascentSteps` steps); the second
 * pass there, with assignments to non-trainable variables (BatchNorm statistics) recorded and
 * undone; w restored exactly; the update handed to the base. Also the two-call API of the papers'
 * code (`firstStep`/`secondStep`), the non-finite policy, and the freeing of the metric scalars
 * a tfjs-layers loss closure keeps on its second call.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptionSchema } from '../util/options.js';
import {
  gradientList,
  trainableVariables,
  type VariableGradient,
} from '../optimizers/gradients.js';
import { WrapperOptimizer, lossOrNothing } from '../optimizers/wrapper.js';
import { NonFiniteGuard, nonFiniteProblem } from './non-finite.js';
import type { NonFinitePolicy, SkippedStep } from './sam-options.js';
import type { GradientSource } from './accumulation.js';
import { PerturbedStep, type StepContext } from './perturbed-step.js';
import { NonTrainableRecorder, collectKeptScalars } from './state-guard.js';

export type { StepContext };

/** A step in progress, or one that `firstStep` completed in one pass. */
export type InProgress = PerturbedStep | 'complete';

export abstract class TwoPassOptimizer extends WrapperOptimizer {
  /** Reach w_k in this many ascent steps (multi-step SAM). */
  readonly ascentSteps: number;
  readonly nonFinite: NonFinitePolicy;

  /** Variants that need ∇L(w) after the second pass set this (it costs one gradient copy). */
  protected keepsFirstGradients = false;
  /** Variants that need w_k − w after the second pass set this. */
  protected keepsPerturbation = false;

  protected readonly nonFiniteGuard: NonFiniteGuard;
  /** A step in progress (its perturbed point), or one `firstStep` completed in one pass. */
  protected inProgress: InProgress | null = null;
  /** Metric scalars a second pass of a tfjs-layers loss closure kept; freed at the next step. */
  private pendingKept: tf.Tensor[] = [];

  /** `options` must resolve `ascentSteps`, `nonFinite` and `onSkip` (SAM's options do). */
  constructor(
    base: tf.Optimizer,
    options: object,
    schema: OptionSchema,
    naming: { owner: string; prefix: string },
  ) {
    super(base, options, schema, naming);
    const o = this.settings as {
      ascentSteps: number;
      nonFinite: NonFinitePolicy;
      onSkip: ((skipped: SkippedStep) => void) | null;
    };
    this.ascentSteps = o.ascentSteps;
    this.nonFinite = o.nonFinite;
    this.nonFiniteGuard = new NonFiniteGuard(naming.owner, o.nonFinite, o.onSkip);
  }

  protected get owner(): string {
    return this.getClassName();
  }

  /** Steps skipped under `nonFinite: 'skip'`. */
  get skippedSteps(): number {
    return this.nonFiniteGuard.skippedSteps;
  }

  get onSkip(): ((skipped: SkippedStep) => void) | null {
    return this.nonFiniteGuard.onSkip;
  }

  set onSkip(callback: ((skipped: SkippedStep) => void) | null) {
    this.nonFiniteGuard.onSkip = callback;
  }

  // ---------------------------------------------------------------- hooks

  /** ε for one ascent step of radius `rho`, one tensor per variable (null: not perturbed). */
  protected abstract perturbation(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    rho: number,
  ): Array<tf.Tensor | null>;

  /** ρ for the step about to run (the method's, ignoring a suspension). */
  protected abstract currentRho(): number;

  /**
   * While true every step is the base optimizer's (ρ = 0, one pass): the trainer sets it outside
   * a window of sharpness-aware epochs (`sharpnessEpochs`).
   */
  sharpnessSuspended = false;

  /** ρ of the step about to run: 0 while suspended, else the method's. */
  protected stepRho(): number {
    return this.sharpnessSuspended ? 0 : this.currentRho();
  }
  /** The variables the first pass differentiates and perturbs (all of them but in ESAM). */
  protected abstract firstPassVariables(variables: tf.Variable[]): tf.Variable[];
  /** Whether this step takes the perturbed pass (LookSAM's reuse steps do not). */
  protected abstract usesPerturbedPass(iteration: number): boolean;
  /** The gradient handed to the base on a step without perturbed pass. */
  protected abstract unperturbedUpdate(
    iteration: number,
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
  ): readonly tf.Tensor[];
  /** The gradient handed to the base after the perturbed pass. */
  protected abstract update(context: StepContext): readonly tf.Tensor[];
  /** Runs after the base applied the update. */
  protected abstract afterApply(context: StepContext): void;

  /** Keeps `tensors` (metric scalars a loss closure kept) until the next step begins. */
  protected keepUntilNextStep(tensors: readonly tf.Tensor[]): void {
    this.pendingKept.push(...tensors);
  }

  /** Whether a step begun with `firstStep` holds the weights at the perturbed point. */
  get isPerturbed(): boolean {
    return this.inProgress instanceof PerturbedStep;
  }

  // ---------------------------------------------------------------- one-call steps

  /**
   * `model.fit` entry point: a full step on `f`. Returns the loss at the unperturbed weights
   * (the same value a plain optimizer would report).
   */
  override minimize(
    f: () => tf.Scalar,
    returnCost = false,
    varList?: tf.Variable[],
  ): tf.Scalar | null {
    return lossOrNothing(this.step(f, varList), returnCost);
  }

  /**
   * Custom-loop one-call step: the forward/backward passes of `lossFn` and the base update.
   * Returns the loss at w (the caller disposes it). `varList` defaults to every trainable variable.
   */
  step(lossFn: () => tf.Scalar, varList?: tf.Variable[]): tf.Scalar {
    return this.runStep(this.singleSource(lossFn), varList);
  }

  /** The gradients of one loss closure; later passes free the metric scalars it keeps. */
  protected singleSource(lossFn: () => tf.Scalar): GradientSource {
    return {
      gradients: (variables, later) =>
        later ? this.guardedGradients(lossFn, variables) : tf.variableGrads(lossFn, variables),
      lossFn,
    };
  }

  /** A whole step with its gradients from `source` (one closure, or accumulated parts). */
  protected runStep(source: GradientSource, varList?: tf.Variable[]): tf.Scalar {
    this.releasePendingKept();
    const variables = varList ?? trainableVariables();
    const firstVariables = this.firstPassVariables(variables);
    const firstPassGuard = this.nonFinite === 'skip' ? new NonTrainableRecorder() : null;
    firstPassGuard?.start();
    let firstPass: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      firstPass = source.gradients(firstVariables, false);
    } finally {
      firstPassGuard?.stop();
    }
    const loss = firstPass.value;
    const revertFirstPass = () => firstPassGuard?.restore();
    try {
      const needsSecondPass = this.beginStep(
        gradientList(firstPass.grads, this.owner),
        loss,
        source,
        revertFirstPass,
        true,
        firstVariables === variables ? null : variables,
      );
      if (needsSecondPass) {
        let secondPass: { value: tf.Scalar; grads: tf.NamedTensorMap };
        try {
          secondPass = source.gradients(variables, true);
        } catch (error) {
          this.abortStep();
          revertFirstPass();
          throw error;
        }
        try {
          this.finishStep(
            gradientList(secondPass.grads, this.owner),
            secondPass.value,
            source.lossFn,
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

  // ---------------------------------------------------------------- internals of a step

  /**
   * Checks the first pass, then either completes a one-pass step (returns false) or moves the
   * weights to w_k and leaves `inProgress` set (returns true). Takes ownership of `gradients`.
   */
  protected beginStep(
    gradients: VariableGradient[],
    loss: tf.Scalar | null,
    source: GradientSource | null,
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
    const problem = nonFiniteProblem(loss, gradients, 'at the current weights (first pass)');
    if (problem !== null) {
      release();
      this.nonFiniteGuard.handle(problem, this.iterations, revertFirstPass);
      return false;
    }
    const iteration = this.iterations;
    const rho = this.stepRho();
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
    const step = new PerturbedStep(
      iteration,
      rho,
      variables,
      narrowed ? (trained as tf.Variable[]) : variables,
      this.keepsFirstGradients ? grads.map((g) => tf.keep(ownsGradients ? g : tf.clone(g))) : null,
    );
    const recorder = step.recorder;
    this.inProgress = step;
    let current = grads;
    try {
      for (let ascent = 0; ascent < this.ascentSteps; ascent++) {
        this.moveAlong(variables, current, rho / this.ascentSteps);
        if (current !== grads) tf.dispose(current);
        if (ascent === this.ascentSteps - 1) break;
        recorder.start();
        const intermediate = (source as GradientSource).gradients(variables, true);
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
    step.arrived();
    recorder.start();
    return true;
  }

  protected moveAlong(
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
  protected guardedGradients(
    lossFn: () => tf.Scalar,
    variables: tf.Variable[],
  ): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    const { result, kept } = collectKeptScalars(() => tf.variableGrads(lossFn, variables));
    this.pendingKept.push(...kept);
    return result;
  }

  /** Undoes the perturbation and the recorded non-trainable assignments. */
  protected abortStep(): void {
    const step = this.inProgress;
    this.inProgress = null;
    if (step instanceof PerturbedStep) step.restore();
  }

  protected finishStep(
    gradients: readonly VariableGradient[],
    loss: tf.Scalar | null,
    lossFn: (() => tf.Scalar) | null,
    revertFirstPass: () => void,
  ): boolean {
    const state = this.inProgress as PerturbedStep;
    const changed = state.changedVariables();
    const perturbation = this.keepsPerturbation ? state.ascent() : null;
    this.abortStep();
    const byName = new Map(gradients.map((g) => [g.variable.name, g.gradient]));
    // A variable the first pass skipped and the loss does not reach has no gradient to apply.
    const perturbed = new Set(state.variables);
    const trained = state.trained.filter((v) => perturbed.has(v) || byName.has(v.name));
    const perturbedGradients = trained.map((v) => byName.get(v.name) ?? null);
    const release = () => {
      state.release();
      tf.dispose(perturbation ?? []);
    };
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
    if (missing.length > 0) {
      release();
      throw new Error(
        `${this.owner}.secondStep(): no gradient for '${missing[0]?.name}' at the perturbed weights; pass the gradients of every variable given to firstStep().`,
      );
    }
    const problem = nonFiniteProblem(loss, gradients, 'at the perturbed weights (second pass)');
    if (problem !== null) {
      release();
      this.nonFiniteGuard.handle(problem, this.iterations, revertFirstPass);
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

  protected releasePendingKept(): void {
    tf.dispose(this.pendingKept);
    this.pendingKept = [];
  }

  // ---------------------------------------------------------------- state

  /** Frees the wrapper's state and the base optimizer; restores the weights if a step is half done. */
  override dispose(): void {
    this.abortStep();
    this.releasePendingKept();
    super.dispose();
  }

  protected override scalarState(): Record<string, number> {
    return { skippedSteps: this.skippedSteps };
  }

  protected override restoreScalarState(values: Record<string, number>): void {
    const skipped = values['skippedSteps'];
    if (skipped !== undefined) this.nonFiniteGuard.skippedSteps = skipped;
  }
}

/** Disposes the tensors of `tensors` that are not among `keep` (hooks may pass inputs through). */
function disposeUnlessIn(tensors: readonly tf.Tensor[], keep: readonly tf.Tensor[]): void {
  const kept = new Set(keep);
  for (const t of tensors) if (!kept.has(t)) t.dispose();
}
