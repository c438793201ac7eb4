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
import { numberOption, type SchemaOf } from '../util/options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import { accumulatingSource, type BatchPart } from '../core/accumulation.js';
import { referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import { axpbyOf } from '../math/fused-ops.js';
import { globalNorm } from '../math/tree.js';
import { AdamW } from '../optimizers/adamw.js';
import { gradientList, trainableVariables } from '../optimizers/gradients.js';
import { WrapperOptimizer, lossOrNothing } from '../optimizers/wrapper.js';

export interface MsamOptions {
  /** Distance of the held point from w (default 0.3, the paper's CIFAR setting). */
  rho?: number;
  /** Coupled L2 weight decay added to the gradient at the held point (default 0). */
  weightDecay?: number;
  /** Added to ‖v‖ in the denominator (default 1e-12). */
  epsilon?: number;
}

export const MSAM_OPTIONS = {
  rho: numberOption({ default: 0.3, min: 0, doc: 'distance of the held point from w' }),
  weightDecay: numberOption({
    default: 0,
    min: 0,
    doc: 'coupled L2 weight decay, taken at the held point',
  }),
  epsilon: numberOption({
    default: 1e-12,
    min: 0,
    minInclusive: false,
    doc: 'added to the norm of the momentum buffer',
  }),
} satisfies SchemaOf<MsamOptions>;

const OWNER = 'MSAM';
const MOMENTUM_BASES = ['Momentum', 'Adam', 'AdamW'];

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

export class MSAM extends WrapperOptimizer {
  static get className(): string {
    return 'MSAM';
  }

  rho: number;
  readonly weightDecay: number;
  readonly epsilon: number;
  /** While true the gradient is taken at w (no shift): the trainer's sharpness window. */
  sharpnessSuspended = false;
  private held: { variables: tf.Variable[]; originals: tf.Tensor[] } | null = null;

  constructor(base: tf.Optimizer, options: MsamOptions = {}) {
    super(base, options, MSAM_OPTIONS, {
      owner: OWNER,
      prefix: 'msam/',
      baseHint:
        'a tfjs optimizer with a momentum buffer (tf.train.momentum, tf.train.adam or adamw())',
    });
    const kind = base.getClassName();
    if (!MOMENTUM_BASES.includes(kind)) {
      throw new Error(
        `${OWNER}: the base optimizer is ${kind}, which has no momentum buffer to follow. Use tf.train.momentum(lr, 0.9) (the paper's SGD form), tf.train.adam(lr) or adamw({...}).`,
      );
    }
    const o = this.options<MsamOptions>();
    this.rho = o.rho;
    this.weightDecay = o.weightDecay;
    this.epsilon = o.epsilon;
  }

  /** One pass per step at a point of its own: no step kind splits it. */
  get capabilities(): Capabilities {
    return OWN_UPDATE;
  }

  /** `model.fit` entry point; returns the loss at the held point, where the gradient is taken. */
  override minimize(
    f: () => tf.Scalar,
    returnCost = false,
    varList?: tf.Variable[],
  ): tf.Scalar | null {
    return lossOrNothing(this.step(f, varList), returnCost);
  }

  /** Custom-loop one-call step: shift, one forward/backward pass, shift back, base update. */
  step(lossFn: () => tf.Scalar, varList?: tf.Variable[]): tf.Scalar {
    return this.stepOn((variables) => tf.variableGrads(lossFn, variables), varList);
  }

  /**
   * One step over the parts of a batch (their mean losses, weighted by `size` where given): the
   * gradient at the held point accumulated over the parts, one update (src/core/accumulation.ts).
   */
  stepAccumulated(parts: readonly BatchPart[], varList?: tf.Variable[]): tf.Scalar {
    const source = accumulatingSource(`${OWNER}.stepAccumulated()`, parts, (fn, variables) =>
      tf.variableGrads(fn, variables),
    );
    return this.stepOn((variables) => source.gradients(variables, false), varList);
  }

  private stepOn(
    gradientsAt: (variables: tf.Variable[]) => { value: tf.Scalar; grads: tf.NamedTensorMap },
    varList?: tf.Variable[],
  ): tf.Scalar {
    const variables = varList ?? trainableVariables();
    this.moveToHeldPoint(variables);
    let pass: { value: tf.Scalar; grads: tf.NamedTensorMap };
    try {
      pass = gradientsAt(variables);
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
    const positions = this.positionsOf(variables);
    const originals = variables.map((v) => tf.keep(tf.clone(v)));
    this.held = { variables, originals };
    if (this.rho === 0 || this.sharpnessSuspended) return;
    const buffers = momentumBuffers(this.base, variables, positions);
    const present = buffers.filter((b): b is tf.Tensor => b !== null);
    const norm = present.length === 0 ? 0 : readScalar(globalNorm(present));
    if (norm === 0) return;
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
    this.applyToBase(
      list.map((g) => g.variable),
      decayed ?? list.map((g) => g.gradient),
    );
    if (decayed !== null) tf.dispose(decayed);
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

  override dispose(): void {
    this.restore();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rho: this.rho };
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

export const MSAM_METHOD: MethodDefinition = {
  name: 'msam',
  title: 'MSAM',
  summary: 'one pass per step, at w shifted against the momentum buffer',
  paper: 'Becker et al., arXiv 2401.12033',
  options: MSAM_OPTIONS,
  create: (base, options) => msam(base, options),
  passes: () => 1,
  bases: ['momentum', 'adam', 'adamw'],
  ownsWeightDecay: true,
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      weightDecay: referenceNumber(c, 'weightDecay'),
    },
  }),
};
