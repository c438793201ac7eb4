/**
 * Sharpness-Aware Minimization (Foret et al. 2021) around any tfjs optimizer.
 *
 * One step: g = ∇L(w); ε = ρ·g/‖g‖ (ASAM: ρ·T²g/‖Tg‖); g_sam = ∇L(w + ε); restore w from a
 * snapshot; the base optimizer applies g_sam at w. Works under `model.fit` (it overrides
 * `minimize`) and in custom loops (`firstStep`/`secondStep`, or `step`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from './types.js';
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
  getLearningRate,
  isOptimizer,
  restoreAccumulatedPowers,
  serializeOptimizer,
  setLearningRate,
} from '../optimizers/registry.js';
import { NonTrainableRecorder, collectKeptScalars } from './state-guard.js';
import {
  checkBoolean,
  checkChoice,
  checkFunction,
  checkKnownOptions,
  checkNumber,
} from './validate.js';

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

const OWNER = 'SAM';
const OPTION_NAMES = [
  'rho',
  'adaptive',
  'eta',
  'adaptiveScope',
  'epsilon',
  'clipNorm',
  'nonFinite',
  'rhoSchedule',
  'onSkip',
] as const;
const BASE_PREFIX = 'base/';
const OWN_PREFIX = 'sam/';

interface StepInProgress {
  variables: tf.Variable[];
  originals: tf.Tensor[];
  perturbedDataIds: unknown[];
  recorder: NonTrainableRecorder;
  skipped: boolean;
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
  readonly epsilon: number;
  readonly clipNorm: number | null;
  readonly nonFinite: NonFinitePolicy;
  rhoSchedule: RhoSchedule | null;
  onSkip: ((skipped: SkippedStep) => void) | null;
  /** Steps skipped under `nonFinite: 'skip'`. */
  skippedSteps = 0;

  private inProgress: StepInProgress | null = null;
  /** Metric scalars a second pass of a tfjs-layers loss closure kept; freed at the next step. */
  private pendingKept: tf.Tensor[] = [];
  /** The order gradients are handed to the base (tfjs-core optimizers index state by position). */
  private readonly gradientOrder = new Map<string, number>();

  constructor(base: tf.Optimizer, options: SamOptions = {}) {
    super();
    if (!isOptimizer(base)) {
      throw new Error(
        `${OWNER}: the first argument must be a tfjs optimizer (e.g. tf.train.sgd(0.1)); got ${String(base)}.`,
      );
    }
    if (Object.prototype.isPrototypeOf.call(SAM.prototype, base)) {
      throw new Error(
        `${OWNER}: the base optimizer is itself a SAM; wrap a plain optimizer instead.`,
      );
    }
    checkKnownOptions(OWNER, options, OPTION_NAMES);
    this.base = base;
    this.adaptive = checkBoolean(OWNER, 'adaptive', options.adaptive ?? false);
    this.rho = checkNumber(OWNER, 'rho', options.rho ?? (this.adaptive ? 0.5 : 0.05), { min: 0 });
    this.eta = checkNumber(OWNER, 'eta', options.eta ?? 0.01, { min: 0 });
    this.adaptiveScope = checkChoice(OWNER, 'adaptiveScope', options.adaptiveScope ?? 'weights', [
      'weights',
      'all',
    ]);
    this.epsilon = checkNumber(OWNER, 'epsilon', options.epsilon ?? 1e-12, {
      min: 0,
      minInclusive: false,
    });
    this.clipNorm =
      options.clipNorm == null
        ? null
        : checkNumber(OWNER, 'clipNorm', options.clipNorm, { min: 0, minInclusive: false });
    this.nonFinite = checkChoice(OWNER, 'nonFinite', options.nonFinite ?? 'throw', [
      'throw',
      'skip',
    ]);
    this.rhoSchedule =
      options.rhoSchedule == null
        ? null
        : checkFunction<RhoSchedule>(OWNER, 'rhoSchedule', options.rhoSchedule);
    this.onSkip =
      options.onSkip == null
        ? null
        : checkFunction<(s: SkippedStep) => void>(OWNER, 'onSkip', options.onSkip);
  }

  // ---------------------------------------------------------------- one-call step

  /**
   * `model.fit` entry point: a full SAM step on `f`. Returns the loss at the unperturbed
   * weights (the same value a plain optimizer would report).
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
   * Custom-loop one-call step: two forward/backward passes of `lossFn`, then the base update.
   * Returns the loss at w (the caller disposes it). `varList` defaults to every trainable variable.
   */
  step(lossFn: () => tf.Scalar, varList?: tf.Variable[]): tf.Scalar {
    this.releasePendingKept();
    const variables = varList ?? trainableVariables();
    const rho = this.currentRho();
    const firstPassGuard = this.nonFinite === 'skip' ? new NonTrainableRecorder() : null;
    firstPassGuard?.start();
    let firstPass: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      firstPass = tf.variableGrads(lossFn, variables);
    } finally {
      firstPassGuard?.stop();
    }
    const loss = firstPass.value;
    const gradients = gradientList(firstPass.grads, OWNER);
    const problem = this.nonFiniteProblem(loss, gradients, 'at the current weights (first pass)');
    if (problem !== null) {
      disposeGradients(gradients);
      this.handleNonFinite(problem, () => firstPassGuard?.restore());
      return loss;
    }
    if (rho === 0) {
      firstPassGuard?.discard();
      this.applyToBase(gradients);
      disposeGradients(gradients);
      return loss;
    }
    this.perturb(gradients, rho);
    disposeGradients(gradients);

    let secondPass: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      const { result, kept } = collectKeptScalars(() => tf.variableGrads(lossFn, variables));
      this.pendingKept.push(...kept);
      secondPass = result;
    } catch (error) {
      this.abortStep();
      firstPassGuard?.restore();
      throw error;
    }
    const secondGradients = gradientList(secondPass.grads, OWNER);
    this.finishStep(
      secondGradients,
      secondPass.value,
      'at the perturbed weights (second pass)',
      () => firstPassGuard?.restore(),
    );
    firstPassGuard?.discard();
    secondPass.value.dispose();
    disposeGradients(secondGradients);
    return loss;
  }

  // ---------------------------------------------------------------- two-call API

  /**
   * Moves the variables named in `gradients` (the gradients at w) to w + ε and remembers w.
   * Until `secondStep`, assignments to non-trainable variables (BatchNorm statistics) are
   * recorded and then undone. Returns false when the step is skipped (non-finite gradient).
   */
  firstStep(gradients: tf.NamedTensorMap | NamedTensor[]): boolean {
    this.releasePendingKept();
    const list = gradientList(gradients, `${OWNER}.firstStep`);
    if (this.inProgress !== null) {
      throw new Error(
        `${OWNER}.firstStep() was called twice without secondStep() between them; the weights are still perturbed. ` +
          'Call secondStep(gradientsAtPerturbedWeights) to finish the step first.',
      );
    }
    const problem = this.nonFiniteProblem(null, list, 'at the current weights (first pass)');
    if (problem !== null) {
      this.handleNonFinite(problem, () => undefined);
      this.inProgress = skippedStep();
      return false;
    }
    this.perturb(list, this.currentRho());
    return true;
  }

  /**
   * Restores w and lets the base optimizer apply `gradients` (taken at w + ε). Returns false
   * when the step was skipped.
   */
  secondStep(gradients: tf.NamedTensorMap | NamedTensor[]): boolean {
    if (this.inProgress === null) {
      throw new Error(
        `${OWNER}.secondStep() was called without a firstStep() before it. ` +
          'Call firstStep(gradientsAtW) first, or use step(lossFn), which does both passes.',
      );
    }
    if (this.inProgress.skipped) {
      this.inProgress = null;
      return false;
    }
    const list = gradientList(gradients, `${OWNER}.secondStep`);
    return this.finishStep(list, null, 'at the perturbed weights (second pass)', () => undefined);
  }

  /** Whether `firstStep` has perturbed the weights and `secondStep` has not yet restored them. */
  get isPerturbed(): boolean {
    return this.inProgress !== null && !this.inProgress.skipped;
  }

  // ---------------------------------------------------------------- internals of a step

  private perturb(gradients: readonly VariableGradient[], rho: number): void {
    const variables = gradients.map((g) => g.variable);
    const grads = gradients.map((g) => g.gradient);
    const perturbation = this.adaptive
      ? adaptivePerturbation(
          grads,
          variables,
          variables.map((v) => this.adaptiveScope === 'all' || isScaleLikeVariable(v.name)),
          rho,
          this.eta,
          this.epsilon,
        )
      : samPerturbation(grads, rho, this.epsilon);
    const originals = variables.map((v) => tf.keep(tf.clone(v)));
    tf.tidy(() => variables.forEach((v, i) => v.assign(tf.add(v, perturbation[i] as tf.Tensor))));
    tf.dispose(perturbation);
    const recorder = new NonTrainableRecorder();
    recorder.start();
    this.inProgress = {
      variables,
      originals,
      perturbedDataIds: variables.map((v) => v.dataId),
      recorder,
      skipped: false,
    };
  }

  /** Undoes the perturbation and the recorded non-trainable assignments. */
  private abortStep(): StepInProgress | null {
    const state = this.inProgress;
    this.inProgress = null;
    if (state === null || state.skipped) return null;
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
    where: string,
    revertFirstPass: () => void,
  ): boolean {
    const state = this.inProgress;
    const changed =
      state === null
        ? []
        : state.variables
            .filter((v, i) => v.isDisposed || v.dataId !== state.perturbedDataIds[i])
            .map((v) => v.name);
    this.abortStep();
    if (changed.length > 0) {
      revertFirstPass();
      throw new Error(
        `${OWNER}.secondStep(): ${changed.join(', ')} changed between firstStep() and secondStep(). ` +
          'The weights were restored to their values before firstStep() and no update was applied. ' +
          'Do not assign to or update the trainable variables between the two calls.',
      );
    }
    const problem = this.nonFiniteProblem(loss, gradients, where);
    if (problem !== null) {
      this.handleNonFinite(problem, revertFirstPass);
      return false;
    }
    this.applyToBase(gradients);
    return true;
  }

  private applyToBase(gradients: readonly VariableGradient[]): void {
    const clipped =
      this.clipNorm === null
        ? null
        : clipByGlobalNorm(
            gradients.map((g) => g.gradient),
            this.clipNorm,
            this.epsilon,
          );
    const byName = new Map<string, tf.Tensor>();
    gradients.forEach((g, i) => {
      if (!this.gradientOrder.has(g.variable.name))
        this.gradientOrder.set(g.variable.name, this.gradientOrder.size);
      byName.set(g.variable.name, clipped === null ? g.gradient : (clipped[i] as tf.Tensor));
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
    if (loss !== null && !Number.isFinite(loss.dataSync()[0]))
      return `the loss ${where} is ${loss.dataSync()[0]}`;
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
        `${OWNER}: non-finite values at step ${step}: ${problem}. The weights and optimizer state were left ` +
          "as they were before the step. Lower the learning rate or rho, check the inputs, or pass nonFinite: 'skip' " +
          'to skip such steps.',
      );
    }
    this.skippedSteps += 1;
    this.onSkip?.({ step, reason: problem });
  }

  private currentRho(): number {
    if (this.rhoSchedule === null) return this.rho;
    const rho = this.rhoSchedule({
      iteration: this.iterations,
      learningRate: this.getLearningRate(),
    });
    return checkNumber(OWNER, 'rhoSchedule(...) result', rho, { min: 0 });
  }

  private releasePendingKept(): void {
    tf.dispose(this.pendingKept);
    this.pendingKept = [];
  }

  // ---------------------------------------------------------------- plain optimizer surface

  /** Applies gradients with the base optimizer, without any perturbation. */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.applyToBase(gradientList(variableGradients, OWNER));
  }

  getLearningRate(): number {
    return getLearningRate(this.base);
  }

  setLearningRate(learningRate: number): void {
    setLearningRate(this.base, learningRate);
  }

  /** Frees SAM's state and the base optimizer's; restores the weights if a step is half done. */
  override dispose(): void {
    this.abortStep();
    this.releasePendingKept();
    this.base.dispose();
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const baseWeights = await this.base.getWeights();
    return [
      await this.saveIterations(),
      { name: `${OWN_PREFIX}skippedSteps`, tensor: tf.scalar(this.skippedSteps, 'int32') },
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
    const skipped = weightValues.find((w) => w.name === `${OWN_PREFIX}skippedSteps`);
    if (skipped !== undefined) this.skippedSteps = (await skipped.tensor.data())[0] as number;
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
      epsilon: this.epsilon,
      clipNorm: this.clipNorm,
      nonFinite: this.nonFinite,
      base: serializeOptimizer(this.base) as unknown as tf.serialization.ConfigDict,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const base = deserializeOptimizer(config['base'], OWNER);
    const options: Record<string, unknown> = {};
    for (const key of OPTION_NAMES) if (config[key] != null) options[key] = config[key];
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

function disposeGradients(gradients: readonly VariableGradient[]): void {
  for (const g of gradients) g.gradient.dispose();
}

function skippedStep(): StepInProgress {
  return {
    variables: [],
    originals: [],
    perturbedDataIds: [],
    recorder: new NonTrainableRecorder(),
    skipped: true,
  };
}
