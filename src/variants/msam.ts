/**
 * MSAM (Becker et al., "Momentum-SAM: Sharpness Aware Minimization without Computational
 * Overhead", arXiv 2401.12033, Alg. 1): one gradient per step, taken at the held point
 * w̃ = w − ρ·v/‖v‖ where v is the base optimizer's momentum buffer (SGD momentum: the velocity;
 * Adam/AdamW: the first moment m). The weights go back to w before the base applies the
 * gradient, so between steps the model holds w (evaluation, callbacks and saving see it).
 * Coupled weight decay is taken at the held point: g' = g + λ·w̃ (the official code's order).
 * Before the base has a buffer (the first step) or when it is zero, there is no shift.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import { checkKnownOptions, checkNumber } from '../util/validate.js';
import { axpbyOf } from '../math/fused-ops.js';
import { globalNorm } from '../math/tree.js';
import { AdamW } from '../optimizers/adamw.js';
import { gradientList } from '../optimizers/gradients.js';
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

export interface MsamOptions {
  /** Distance of the held point from w (default 0.3, the paper's CIFAR setting). */
  rho?: number;
  /** Coupled L2 weight decay added to the gradient at the held point (default 0). */
  weightDecay?: number;
  /** Added to ‖v‖ in the denominator (default 1e-12). */
  epsilon?: number;
}

const OWNER = 'MSAM';
const OPTION_NAMES = ['rho', 'weightDecay', 'epsilon'] as const;
const BASE_PREFIX = 'base/';
const POWERS_PREFIX = 'msam/base/';

interface OptimizerSlot {
  variable: tf.Variable;
}

/** The buffers whose direction MSAM follows (null where the base has none yet). */
function momentumBuffers(
  base: tf.Optimizer,
  variables: readonly tf.Variable[],
  positions: readonly number[],
): Array<tf.Tensor | null> {
  if (Object.prototype.isPrototypeOf.call(AdamW.prototype, base)) {
    return (base as AdamW).firstMoments(variables);
  }
  const slots = (base as unknown as Record<string, OptimizerSlot[] | undefined>)[
    base.getClassName() === 'Adam' ? 'accumulatedFirstMoment' : 'accumulations'
  ];
  return positions.map((p) => slots?.[p]?.variable ?? null);
}

export class MSAM extends tf.Optimizer {
  static get className(): string {
    return 'MSAM';
  }

  readonly base: tf.Optimizer;
  rho: number;
  readonly weightDecay: number;
  readonly epsilon: number;
  /** The order gradients are handed to the base (tfjs-core optimizers keep state by position). */
  private readonly gradientOrder = new Map<string, number>();
  private held: { variables: tf.Variable[]; originals: tf.Tensor[] } | null = null;

  constructor(base: tf.Optimizer, options: MsamOptions = {}) {
    super();
    if (!isOptimizer(base)) {
      throw new Error(
        `${OWNER}: the first argument must be a tfjs optimizer with a momentum buffer (tf.train.momentum, tf.train.adam or adamw()); got ${String(base)}.`,
      );
    }
    const kind = base.getClassName();
    if (!['Momentum', 'Adam', 'AdamW'].includes(kind)) {
      throw new Error(
        `${OWNER}: the base optimizer is ${kind}, which has no momentum buffer to follow. Use tf.train.momentum(lr, 0.9) (the paper's SGD form), tf.train.adam(lr) or adamw({...}).`,
      );
    }
    checkKnownOptions(OWNER, options, OPTION_NAMES);
    this.base = base;
    this.rho = checkNumber(OWNER, 'rho', options.rho ?? 0.3, { min: 0 });
    this.weightDecay = checkNumber(OWNER, 'weightDecay', options.weightDecay ?? 0, { min: 0 });
    this.epsilon = checkNumber(OWNER, 'epsilon', options.epsilon ?? 1e-12, {
      min: 0,
      minInclusive: false,
    });
  }

  /** `model.fit` entry point; returns the loss at the held point, where the gradient is taken. */
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

  /** Custom-loop one-call step: shift, one forward/backward pass, shift back, base update. */
  step(lossFn: () => tf.Scalar, varList?: tf.Variable[]): tf.Scalar {
    const variables =
      varList ?? Object.values(tf.engine().registeredVariables).filter((v) => v.trainable);
    this.moveToHeldPoint(variables);
    let pass: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      pass = tf.variableGrads(lossFn, variables);
    } catch (error) {
      this.restore();
      throw error;
    }
    try {
      this.applyAtHeldPoint(pass.grads);
    } finally {
      tf.dispose(Object.values(pass.grads));
    }
    return pass.value;
  }

  /**
   * Two-call API, first half: moves `variables` to w̃ = w − ρ·v/‖v‖ (no move before the base has
   * a buffer). Compute the gradients there, then call `applyAtHeldPoint`.
   */
  moveToHeldPoint(variables: tf.Variable[]): void {
    if (this.held !== null) {
      throw new Error(
        `${OWNER}.moveToHeldPoint() was called twice without applyAtHeldPoint() between them; the weights are still shifted. Call applyAtHeldPoint(gradients) first.`,
      );
    }
    variables.forEach((v) => {
      if (!this.gradientOrder.has(v.name)) this.gradientOrder.set(v.name, this.gradientOrder.size);
    });
    const buffers = momentumBuffers(
      this.base,
      variables,
      variables.map((v) => this.gradientOrder.get(v.name) as number),
    );
    const present = buffers.filter((b): b is tf.Tensor => b !== null);
    const norm = present.length === 0 ? 0 : readScalar(globalNorm(present));
    const originals = variables.map((v) => tf.keep(tf.clone(v)));
    this.held = { variables, originals };
    if (this.rho === 0 || norm === 0) return;
    const factor = this.rho / (norm + this.epsilon);
    tf.tidy(() =>
      variables.forEach((v, i) => {
        const buffer = buffers[i];
        if (buffer != null) v.assign(axpbyOf(1, v, -factor, buffer));
      }),
    );
  }

  /** Two-call API, second half: restores w and lets the base apply the held-point gradients. */
  applyAtHeldPoint(gradients: tf.NamedTensorMap | NamedTensor[]): void {
    if (this.held === null) {
      throw new Error(
        `${OWNER}.applyAtHeldPoint() was called without moveToHeldPoint() before it. Call moveToHeldPoint(variables) first, or use step(lossFn).`,
      );
    }
    const list = gradientList(gradients, OWNER);
    const decayed =
      this.weightDecay === 0
        ? null
        : tf.tidy(() => list.map((g) => tf.add(g.gradient, tf.mul(g.variable, this.weightDecay))));
    this.restore();
    const byName = new Map(list.map((g, i) => [g.variable.name, decayed?.[i] ?? g.gradient]));
    this.applyInOrder(byName);
    if (decayed !== null) tf.dispose(decayed);
  }

  /** Applies gradients with the base optimizer, without any shift. */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = gradientList(variableGradients, OWNER);
    list.forEach(({ variable }) => {
      if (!this.gradientOrder.has(variable.name))
        this.gradientOrder.set(variable.name, this.gradientOrder.size);
    });
    this.applyInOrder(new Map(list.map((g) => [g.variable.name, g.gradient])));
  }

  private applyInOrder(byName: Map<string, tf.Tensor>): void {
    const ordered = [...this.gradientOrder.keys()].map((name) => ({
      name,
      tensor: byName.get(name) ?? (null as unknown as tf.Tensor),
    }));
    this.base.applyGradients(ordered);
    this.incrementIterations();
  }

  private restore(): void {
    const held = this.held;
    this.held = null;
    if (held === null) return;
    held.variables.forEach((v, i) => {
      if (!v.isDisposed) v.assign(held.originals[i] as tf.Tensor);
    });
    tf.dispose(held.originals);
  }

  getLearningRate(): number {
    return getLearningRate(this.base);
  }

  setLearningRate(learningRate: number): void {
    setLearningRate(this.base, learningRate);
  }

  override dispose(): void {
    this.restore();
    disposeOptimizer(this.base);
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const baseWeights = await this.base.getWeights();
    return [
      await this.saveIterations(),
      ...accumulatedPowers(this.base).map((w) => ({
        name: `${POWERS_PREFIX}${w.name}`,
        tensor: w.tensor,
      })),
      ...baseWeights.map((w) => ({ name: `${BASE_PREFIX}${w.name}`, tensor: w.tensor })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const iteration = weightValues.find((w) => w.name === 'iter');
    if (iteration !== undefined) this.iterations_ = (await iteration.tensor.data())[0] as number;
    const baseWeights = weightValues
      .filter((w) => w.name.startsWith(BASE_PREFIX))
      .map((w) => ({ name: w.name.slice(BASE_PREFIX.length), tensor: w.tensor }));
    if (baseWeights.length > 0) await this.base.setWeights(baseWeights);
    restoreAccumulatedPowers(
      this.base,
      weightValues
        .filter((w) => w.name.startsWith(POWERS_PREFIX))
        .map((w) => ({ name: w.name.slice(POWERS_PREFIX.length), tensor: w.tensor })),
    );
  }

  getConfig(): tf.serialization.ConfigDict {
    return {
      rho: this.rho,
      weightDecay: this.weightDecay,
      epsilon: this.epsilon,
      base: serializeOptimizer(this.base) as unknown as tf.serialization.ConfigDict,
    };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const base = deserializeOptimizer(config['base'], cls.className);
    const options: MsamOptions = {};
    for (const key of OPTION_NAMES) if (config[key] != null) options[key] = config[key] as number;
    return new cls(base, options);
  }
}

tf.serialization.registerClass(MSAM);

function readScalar(t: tf.Scalar): number {
  const value = t.dataSync()[0] as number;
  t.dispose();
  return value;
}

/** `msam(tf.train.momentum(0.1, 0.9), {rho: 0.3})` — Momentum-SAM; also with Adam or AdamW. */
export function msam(base: tf.Optimizer, options: MsamOptions = {}): MSAM {
  return new MSAM(base, options);
}
