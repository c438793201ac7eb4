/**
 * SAMPa (Xie, Pethick, Cevher, NeurIPS 2024, "SAMPa: Sharpness-aware Minimization Parallelized",
 * Alg. 1): the two gradients of a SAM step made independent, so that they can be computed at the
 * same time. With gy the gradient of the previous step's extrapolated point:
 *   x̃  = x + ρ·gy/(‖gy‖ + 1e-12)                   (x̃ = x while gy = 0)
 *   gx  = ∇L(x̃; previous batch)
 *   y   = x − lr·(gy + λ_wd·x + μ·v)   with the base's momentum buffer v (x − lr·gy before it has one)
 *   gy' = ∇L(y; this batch)
 *   the base steps at x with (1 − λ)·gx + λ·gy';   gy ← gy'
 * as the official code (LIONS-EPFL/SAMPa, `train.py`, two ranks meeting at one all-reduce) runs it;
 * `λ` is its `--og`. The base is SGD or SGD momentum (in `withWeightDecay` for PyTorch's coupled
 * weight decay), whose learning rate, momentum and buffer the extrapolation reads. Over exactly
 * those bases SAMPa takes the base's step itself, one pass per variable with the base's rounding
 * (sgdStepOf), and can hand the whole step to a replica as data (`replicaStep`: the two-thread
 * step's worker keeps its own copy of x, gy and the buffers).
 *
 * The perturbed gradient uses the PREVIOUS batch, which `model.fit` no longer holds: train with
 * `stepWithPrevious(lossFn, previousLossFn)` (the trainer and the CLI do). The loss it reports is
 * the loss at y on this batch (where its gradient is taken), not at x. ρ = 0 (or a suspended step)
 * is one base step on this batch, the family's rule.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  WHOLE_STEP_ONLY,
  type Capabilities,
  type MethodDefinition,
  type PreviousBatchStepping,
  type ReplicaStep,
  type SharpnessAware,
  type TwoPointStepping,
} from '../core/method.js';
import { NonFiniteGuard, nonFiniteProblem } from '../core/non-finite.js';
import { referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import type { NonFinitePolicy } from '../core/sam-options.js';
import { NonTrainableRecorder } from '../core/state-guard.js';
import { axpbyOf, sgdStepsOf, type SgdStepAttrs } from '../math/fused-ops.js';
import { normalizedStepFrom } from '../math/perturbation.js';
import { allFinite } from '../math/tree.js';
import { gradientList, trainableVariables } from '../optimizers/gradients.js';
import { innermost } from '../optimizers/registry.js';
import { NamedSlots } from '../optimizers/slots.js';
import { WeightDecay } from '../optimizers/weight-decay.js';
import { WrapperOptimizer } from '../optimizers/wrapper.js';
import { choiceOption, numberOption, type SchemaOf } from '../util/options.js';

export interface SampaOptions {
  /** Radius of the perturbation (default 0.1, the official default). */
  rho?: number;
  /** Weight of the gradient at y in the update, the official `--og` (default 0.2). */
  lambda?: number;
  /** Added to ‖gy‖ (default 1e-12). */
  epsilon?: number;
  /** A NaN/Inf loss or gradient: throw an error naming the step (default) or skip the step. */
  nonFinite?: NonFinitePolicy;
}

export const SAMPA_OPTIONS = {
  rho: numberOption({ default: 0.1, min: 0, doc: 'radius of the perturbation' }),
  lambda: numberOption({
    default: 0.2,
    min: 0,
    max: 1,
    doc: 'weight of the gradient at the extrapolated point y',
  }),
  epsilon: numberOption({
    default: 1e-12,
    min: 0,
    minInclusive: false,
    doc: 'added to the norm of the stored gradient',
  }),
  nonFinite: choiceOption(
    ['throw', 'skip'] as const,
    'throw',
    'a NaN/Inf loss or gradient: throw, or skip the step',
  ),
} satisfies SchemaOf<SampaOptions>;

const OWNER = 'SAMPa';
const BASES = ['SGD', 'Momentum'];

/** What SAMPa reads of tf.train.sgd / tf.train.momentum (tfjs-core's fields). */
interface SgdInternals {
  learningRate: number;
  momentum?: number;
  accumulations?: Array<{ variable: tf.Variable } | undefined>;
}

/** tf.Optimizer's step counter (protected in tfjs-core's types). */
interface Counting {
  incrementIterations(): void;
}

interface FusedBase {
  attrs: SgdStepAttrs;
  /** The momentum buffer of each variable (null for plain SGD). */
  buffers: tf.Variable[] | null;
  /** The optimizers whose step counters the base's step advances. */
  counters: Counting[];
}

interface MomentumState {
  momentum: number;
  /** The base's buffer of each variable (null where it has none yet). */
  buffers: Array<tf.Tensor | null>;
  weightDecay: number;
}

export class SAMPa
  extends WrapperOptimizer
  implements SharpnessAware, PreviousBatchStepping, TwoPointStepping
{
  static get className(): string {
    return 'SAMPa';
  }

  rho: number;
  readonly lambda: number;
  readonly epsilon: number;
  sharpnessSuspended = false;
  private readonly nonFiniteGuard: NonFiniteGuard;

  constructor(base: tf.Optimizer, options: SampaOptions = {}) {
    super(base, options, SAMPA_OPTIONS, {
      owner: OWNER,
      prefix: 'sampa/',
      baseHint:
        'SGD or SGD momentum (tf.train.sgd, tf.train.momentum, optionally in withWeightDecay)',
    });
    const inner = innermost(base);
    if (!BASES.includes(inner.getClassName())) {
      throw new Error(
        `${OWNER}: the base optimizer is ${inner.getClassName()}; SAMPa's extrapolation follows SGD's step. Use tf.train.sgd(lr) or tf.train.momentum(lr, 0.9), with withWeightDecay(…, λ) for weight decay.`,
      );
    }
    if ((inner as unknown as { useNesterov?: boolean }).useNesterov === true) {
      throw new Error(
        `${OWNER}: Nesterov momentum is not SAMPa's base; use tf.train.momentum(lr, μ, false).`,
      );
    }
    const o = this.options<SampaOptions>();
    this.rho = o.rho;
    this.lambda = o.lambda;
    this.epsilon = o.epsilon;
    this.nonFiniteGuard = new NonFiniteGuard(OWNER, o.nonFinite, null);
    this.state = new NamedSlots(OWNER, ['gy']);
  }

  /**
   * Two gradients on two batches: it needs the previous batch, and runs data-parallel as one
   * gradient per thread (two threads: the main one and one worker).
   */
  get capabilities(): Capabilities {
    return { ...WHOLE_STEP_ONLY, previousBatch: true, dataParallel: true };
  }

  get skippedSteps(): number {
    return this.nonFiniteGuard.skippedSteps;
  }

  override minimize(): tf.Scalar | null {
    throw this.needsPrevious('model.fit / minimize');
  }

  step(): tf.Scalar {
    throw this.needsPrevious('step(lossFn)');
  }

  private needsPrevious(where: string): Error {
    return new Error(
      `${OWNER}: its perturbed gradient uses the previous batch, which ${where} cannot provide. ` +
        'Use sampa.stepWithPrevious(lossFn, previousLossFn) in a custom loop (keep the previous batch one step longer), or the trainer / CLI, which do.',
    );
  }

  stepWithPrevious(
    lossFn: () => tf.Scalar,
    previousLossFn: (() => tf.Scalar) | null,
    varList?: tf.Variable[],
  ): tf.Scalar {
    const variables = varList ?? trainableVariables();
    const perturbed = this.perturbedPoint(variables);
    if (perturbed === 'base') return this.baseStep(lossFn, variables);
    let extrapolated: tf.Tensor[] | null = null;
    const x = variables.map((v) => tf.keep(tf.clone(v)));
    const recorder = new NonTrainableRecorder();
    const gradientsAt = (point: tf.Tensor[] | null, fn: () => tf.Scalar, recorded: boolean) => {
      if (point !== null) variables.forEach((v, i) => v.assign(point[i] as tf.Tensor));
      if (recorded) recorder.start();
      const pass = tf.variableGrads(fn, variables);
      if (recorded) recorder.restore();
      const grads = variables.map((v) => pass.grads[v.name] ?? tf.zerosLike(v));
      tf.dispose(Object.values(pass.grads).filter((g) => !grads.includes(g)));
      variables.forEach((v, i) => v.assign(x[i] as tf.Tensor));
      return { value: pass.value, grads };
    };
    let atX: { value: tf.Scalar; grads: tf.Tensor[] } | null = null;
    let atY: { value: tf.Scalar; grads: tf.Tensor[] } | null = null;
    try {
      // gx on the previous batch at x̃ (its BatchNorm statistics undone), gy' on this one at y.
      atX = gradientsAt(perturbed, previousLossFn ?? lossFn, true);
      extrapolated = this.extrapolatedPoint(variables);
      atY = gradientsAt(extrapolated, lossFn, false);
      this.applyStepGradients(variables, atX.grads, atY.grads, atY.value);
      return atY.value;
    } catch (error) {
      recorder.restore();
      variables.forEach((v, i) => {
        if (!v.isDisposed) v.assign(x[i] as tf.Tensor);
      });
      atY?.value.dispose();
      throw error;
    } finally {
      tf.dispose([
        ...x,
        ...(perturbed ?? []),
        ...(extrapolated ?? []),
        ...(atX === null ? [] : [atX.value, ...atX.grads]),
        ...(atY?.grads ?? []),
      ]);
    }
  }

  /**
   * x̃ = x + ρ·gy/(‖gy‖ + ε), the point of the previous batch's gradient (null before the first
   * step: x itself), or 'base' when the step is the base's (ρ = 0, suspended).
   */
  perturbedPoint(variables: tf.Variable[]): tf.Tensor[] | null | 'base' {
    (this.state as NamedSlots).bind(variables);
    this.positionsOf(variables);
    if (this.rho === 0 || this.sharpnessSuspended) return 'base';
    const stored = this.storedGradients(variables);
    if (stored === null) return null;
    return normalizedStepFrom(variables, stored, this.rho, this.epsilon);
  }

  /**
   * This step as data a replica holding the same x, gy and momentum buffers can reproduce (null:
   * a plain step, before the first step, or a base it does not step in one pass).
   */
  replicaStep(variables: tf.Variable[]): ReplicaStep | null {
    const positions = this.positionsOf(variables);
    if (this.rho === 0 || this.sharpnessSuspended) return null;
    const stored = this.storedGradients(variables);
    const fused = this.fusedBaseStep(positions);
    if (stored === null || fused === null) return null;
    return {
      rho: this.rho,
      epsilon: this.epsilon,
      stored,
      step: fused.attrs,
      accumulations: fused.buffers,
    };
  }

  /** y = x − lr·(gy + λ_wd·x + μ·v), or x − lr·gy before the base has a momentum buffer (null: x). */
  extrapolatedPoint(variables: tf.Variable[]): tf.Tensor[] | null {
    const stored = this.storedGradients(variables);
    if (stored === null) return null;
    const lr = this.getLearningRate();
    const momentum = this.momentumState(this.positionsOf(variables));
    return tf.tidy(() =>
      variables.map((v, i) => {
        const gy = stored[i] as tf.Tensor;
        const buffer = momentum?.buffers[i] ?? null;
        const direction =
          buffer === null || momentum === null
            ? gy
            : tf.add(axpbyOf(1, gy, momentum.momentum, buffer), tf.mul(v, momentum.weightDecay));
        return axpbyOf(1, v, -lr, direction);
      }),
    );
  }

  /** gy of each variable, or null before the first step has stored one. */
  private storedGradients(variables: tf.Variable[]): tf.Tensor[] | null {
    const state = this.state as NamedSlots;
    state.bind(variables);
    if (!state.has(variables[0]?.name ?? '')) return null;
    return variables.map((v) => state.get(v, 'gy'));
  }

  /**
   * Ends a step whose gradients were taken elsewhere: gx at x̃ on the previous batch, gy' at y on
   * this one, `loss` the loss at y. The base steps at x with (1 − λ)·gx + λ·gy', and gy' is kept.
   * A non-finite value is thrown or skipped as `nonFinite` says, leaving every state as it was.
   */
  applyStepGradients(
    variables: tf.Variable[],
    gx: readonly tf.Tensor[],
    gyNew: readonly tf.Tensor[],
    loss: tf.Scalar | null,
  ): void {
    const state = this.state as NamedSlots;
    const fused = this.fusedBaseStep(this.positionsOf(variables));
    if (fused !== null) {
      if (!this.stepBaseFused(variables, gx, gyNew, loss, fused)) return;
    } else {
      const update = tf.tidy(() =>
        gx.map((g, i) => axpbyOf(1 - this.lambda, g, this.lambda, gyNew[i] as tf.Tensor)),
      );
      // A NaN or Inf in gx or gy' reaches the update (0·Inf is NaN where λ is 0 or 1): one pass
      // checks both; the gradients themselves are searched only to name the culprit.
      if (!allFinite(loss === null ? update : [loss, ...update])) {
        tf.dispose(update);
        this.skipNonFinite(variables, gx, gyNew, loss);
        return;
      }
      this.applyToBase(variables, update);
      tf.dispose(update);
    }
    variables.forEach((v, i) => state.get(v, 'gy').assign(gyNew[i] as tf.Tensor));
  }

  /**
   * The base's step in one pass per variable (sgdStepOf: the same float32 rounding as the base's
   * ops) where the base is tf.train.sgd or tf.train.momentum, alone or in withWeightDecay, and has
   * a momentum buffer for every variable; null otherwise (the base steps itself).
   */
  private fusedBaseStep(positions: readonly number[]): FusedBase | null {
    const { inner, momentum, buffers } = this.baseMomentum(positions);
    const decay = this.base === (inner as unknown) ? null : this.base;
    if (decay !== null && !(decay instanceof WeightDecay && decay.base === (inner as unknown))) {
      return null;
    }
    if (momentum !== 0 && buffers.includes(null)) return null;
    return {
      attrs: {
        a: 1 - this.lambda,
        b: this.lambda,
        weightDecay: decay?.weightDecay ?? 0,
        momentum,
        c: Math.fround(-inner.learningRate),
      },
      buffers: momentum !== 0 ? (buffers as tf.Variable[]) : null,
      counters: [inner, ...(decay === null ? [] : [decay])] as unknown as Counting[],
    };
  }

  /** Whether the step was taken (false: skipped as `nonFinite` says). */
  private stepBaseFused(
    variables: readonly tf.Variable[],
    gx: readonly tf.Tensor[],
    gyNew: readonly tf.Tensor[],
    loss: tf.Scalar | null,
    { attrs, buffers, counters }: FusedBase,
  ): boolean {
    const stepped = sgdStepsOf(variables, gx, gyNew, buffers, attrs);
    const finite = allFinite(loss === null ? [stepped.probe] : [loss, stepped.probe]);
    if (finite) {
      variables.forEach((v, i) => v.assign(stepped.values[i] as tf.Tensor));
      buffers?.forEach((b, i) => b.assign(stepped.accumulations?.[i] as tf.Tensor));
      counters.forEach((optimizer) => optimizer.incrementIterations());
      this.incrementIterations();
    }
    tf.dispose([...stepped.values, ...(stepped.accumulations ?? []), stepped.probe]);
    if (!finite) this.skipNonFinite(variables, gx, gyNew, loss);
    return finite;
  }

  /** Throws or counts a skipped step, naming what made the loss or the update non-finite. */
  private skipNonFinite(
    variables: readonly tf.Variable[],
    gx: readonly tf.Tensor[],
    gyNew: readonly tf.Tensor[],
    loss: tf.Scalar | null,
  ): void {
    const named = (gradients: readonly tf.Tensor[]) =>
      gradients.map((gradient, i) => ({ variable: variables[i] as tf.Variable, gradient }));
    const problem =
      nonFiniteProblem(loss, named(gyNew), 'at the extrapolated point') ??
      nonFiniteProblem(null, named(gx), 'at the perturbed point (previous batch)') ??
      `the update (1 − λ)·gx + λ·gy' overflows float32 (λ = ${this.lambda})`;
    this.nonFiniteGuard.handle(problem, this.iterations, () => undefined);
  }

  /** The base's momentum and buffers, and the weight decay around it (null for plain SGD). */
  private momentumState(positions: readonly number[]): MomentumState | null {
    const { momentum, buffers } = this.baseMomentum(positions);
    if (momentum === 0) return null;
    const decay = (this.base as unknown as { weightDecay?: unknown }).weightDecay;
    return { momentum, buffers, weightDecay: typeof decay === 'number' ? decay : 0 };
  }

  /** The innermost base, its momentum μ (0: plain SGD) and its buffer of each variable (null: none yet). */
  private baseMomentum(positions: readonly number[]): {
    inner: SgdInternals;
    momentum: number;
    buffers: Array<tf.Variable | null>;
  } {
    const inner = innermost(this.base) as unknown as SgdInternals;
    return {
      inner,
      momentum: typeof inner.momentum === 'number' ? inner.momentum : 0,
      buffers: positions.map((p) => inner.accumulations?.[p]?.variable ?? null),
    };
  }

  /** ρ = 0 or a suspended step: the base's own step on this batch. */
  private baseStep(lossFn: () => tf.Scalar, variables: tf.Variable[]): tf.Scalar {
    const pass = tf.variableGrads(lossFn, variables);
    const list = gradientList(pass.grads, OWNER);
    try {
      const problem = nonFiniteProblem(pass.value, list, 'at the current weights');
      if (problem !== null) this.nonFiniteGuard.handle(problem, this.iterations, () => undefined);
      else
        this.applyToBase(
          list.map((g) => g.variable),
          list.map((g) => g.gradient),
        );
    } catch (error) {
      pass.value.dispose();
      throw error;
    } finally {
      tf.dispose(Object.values(pass.grads));
    }
    return pass.value;
  }

  protected override scalarState(): Record<string, number> {
    return { skippedSteps: this.skippedSteps };
  }

  protected override restoreScalarState(values: Record<string, number>): void {
    const skipped = values['skippedSteps'];
    if (skipped !== undefined) this.nonFiniteGuard.skippedSteps = skipped;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rho: this.rho };
  }
}

tf.serialization.registerClass(SAMPa);

/** `sampa(tf.train.momentum(0.1, 0.9), {rho: 0.1, lambda: 0.2})` — SAMPa over SGD (momentum). */
export function sampa(base: tf.Optimizer, options: SampaOptions = {}): SAMPa {
  return new SAMPa(base, options);
}

export const SAMPA_METHOD: MethodDefinition = {
  name: 'sampa',
  title: 'SAMPa',
  summary: "SAM's two gradients made independent (the perturbed one on the previous batch)",
  paper: 'Xie et al., NeurIPS 2024',
  options: SAMPA_OPTIONS,
  create: (base, options) => sampa(base, options),
  passes: () => 2,
  bases: ['sgd', 'momentum'],
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      lambda: referenceNumber(c, 'lambda'),
    },
    lossNotCompared:
      "SAMPa reports the loss at y (where this batch's gradient is taken); the reference records L(x; B_t)",
  }),
};
