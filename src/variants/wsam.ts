/**
 * WSAM (Yue et al., KDD 2023, "Sharpness-Aware Minimization Revisited: Weighted Sharpness as a
 * Regularization Term"): minimizes L(w) + a·(L(w + ε) − L(w)) with a = γ/(1 − γ).
 * Coupled: the base receives (1 − a)·g + a·g_sam. Decoupled (default, the paper's Alg. 1): the base
 * steps with g, then w ← w − lr·a·(g_sam − g).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import {
  referenceAdaptive,
  referenceFlag,
  referenceNumber,
  requiredReferenceNumber,
} from '../core/reference.js';
import { booleanOption, numberOption, type SchemaOf } from '../util/options.js';
import { axpbyOf } from '../math/fused-ops.js';
import { linearCombination } from '../math/tree.js';

export interface WsamOptions extends SamOptions {
  /** Weight of sharpness, in [0, 1) (default 0.9). */
  gamma?: number;
  /** Apply the sharpness term outside the base optimizer (default true). */
  decouple?: boolean;
}

export const WSAM_OPTIONS = {
  ...SAM_OPTIONS,
  gamma: numberOption({
    default: 0.9,
    min: 0,
    max: 1,
    maxInclusive: false,
    doc: 'weight of sharpness, a = gamma/(1 − gamma)',
  }),
  decouple: booleanOption(true, 'apply the sharpness term outside the base optimizer'),
} satisfies SchemaOf<WsamOptions>;

export class WSAM extends SAM {
  static override get className(): string {
    return 'WSAM';
  }

  readonly gamma: number;
  readonly decouple: boolean;

  constructor(base: tf.Optimizer, options: WsamOptions = {}) {
    super(base, options, WSAM_OPTIONS);
    this.keepsFirstGradients = true;
    const o = this.options<WsamOptions>();
    this.gamma = o.gamma;
    this.decouple = o.decouple;
  }

  override get capabilities(): Capabilities {
    return OWN_UPDATE;
  }

  /** a = γ/(1 − γ), the weight of the sharpness term. */
  get sharpnessWeight(): number {
    return this.gamma / (1 - this.gamma);
  }

  protected override update(context: StepContext): readonly tf.Tensor[] {
    const g = context.firstGradients as tf.Tensor[];
    if (this.decouple) return g;
    const a = this.sharpnessWeight;
    return linearCombination(1 - a, g, a, context.perturbedGradients);
  }

  protected override afterApply(context: StepContext): void {
    if (!this.decouple) return;
    const step = this.getLearningRate() * this.sharpnessWeight;
    const g = context.firstGradients as tf.Tensor[];
    tf.tidy(() =>
      context.variables.forEach((v, i) =>
        v.assign(
          axpbyOf(
            1,
            v,
            -step,
            tf.sub(context.perturbedGradients[i] as tf.Tensor, g[i] as tf.Tensor),
          ),
        ),
      ),
    );
  }
}

tf.serialization.registerClass(WSAM);

export function wsam(base: tf.Optimizer, options: WsamOptions = {}): WSAM {
  return new WSAM(base, options);
}

export const WSAM_METHOD: MethodDefinition = {
  name: 'wsam',
  title: 'WSAM',
  summary: 'weights sharpness as a regularizer: L(w) + a·(L(w + ε) − L(w))',
  paper: 'Yue et al., KDD 2023',
  options: WSAM_OPTIONS,
  create: (base, options) => wsam(base, options),
  passes: () => 2,
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      gamma: referenceNumber(c, 'gamma'),
      decouple: referenceFlag(c, 'decouple'),
      ...referenceAdaptive(c),
    },
  }),
};
