/**
 * LookSAM (Liu et al., CVPR 2022, "Towards Efficient and Scalable Sharpness-Aware Minimization",
 * Alg. 2): the perturbed pass runs every k-th step only, storing g_v = g_sam − (projection of
 * g_sam on g); the steps in between take one forward/backward pass and hand the base
 * g + α·(‖g‖/‖g_v‖)·g_v. Projection per tensor (pytorch_optimizer, the golden file) or over all
 * variables at once (the paper).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { SAM_OPTIONS } from '../core/sam-options.js';
import { OWN_UPDATE, type Capabilities, type MethodDefinition } from '../core/method.js';
import { referenceAdaptive, referenceNumber, requiredReferenceNumber } from '../core/reference.js';
import { NamedSlots } from '../optimizers/slots.js';
import { choiceOption, numberOption, type SchemaOf } from '../util/options.js';
import { axpbyOf } from '../math/fused-ops.js';
import { globalNorm, orthogonalComponent, orthogonalComponentPerTensor } from '../math/tree.js';

export type LookSamProjection = 'per-tensor' | 'global';

export interface LookSamOptions extends SamOptions {
  /** Take the perturbed pass every k steps (default 5). */
  k?: number;
  /** Weight of the reused direction (default 0.7). */
  alpha?: number;
  /** Where ‖·‖ and the projection are taken (default 'per-tensor'). */
  projection?: LookSamProjection;
}

export const LOOKSAM_OPTIONS = {
  ...SAM_OPTIONS,
  k: numberOption({
    default: 5,
    min: 1,
    integer: true,
    doc: 'take the perturbed pass every k steps',
  }),
  alpha: numberOption({ default: 0.7, min: 0, doc: 'weight of the reused direction' }),
  projection: choiceOption(
    ['per-tensor', 'global'] as const,
    'per-tensor',
    'where the norm and the projection are taken',
  ),
} satisfies SchemaOf<LookSamOptions>;

export class LookSAM extends SAM {
  static override get className(): string {
    return 'LookSAM';
  }

  readonly k: number;
  readonly alpha: number;
  readonly projection: LookSamProjection;

  constructor(base: tf.Optimizer, options: LookSamOptions = {}) {
    super(base, options, LOOKSAM_OPTIONS);
    this.keepsFirstGradients = true;
    const o = this.options<LookSamOptions>();
    this.k = o.k;
    this.alpha = o.alpha;
    this.projection = o.projection;
    this.state = new NamedSlots('LookSAM', ['gv']);
  }

  override get capabilities(): Capabilities {
    return OWN_UPDATE;
  }

  protected override usesPerturbedPass(iteration: number): boolean {
    return iteration % this.k === 0;
  }

  protected override update(context: StepContext): readonly tf.Tensor[] {
    const state = this.state as NamedSlots;
    const g = context.firstGradients as tf.Tensor[];
    const gSam = context.perturbedGradients;
    const orthogonal =
      this.projection === 'global'
        ? orthogonalComponent(gSam, g, this.epsilon)
        : orthogonalComponentPerTensor(gSam, g, this.epsilon);
    context.variables.forEach((v, i) => state.get(v, 'gv').assign(orthogonal[i] as tf.Tensor));
    tf.dispose(orthogonal);
    return gSam;
  }

  protected override unperturbedUpdate(
    _iteration: number,
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
  ): readonly tf.Tensor[] {
    const state = this.state as NamedSlots;
    const known = variables.map((v) => state.has(v.name));
    if (!known.some(Boolean)) return gradients;
    return tf.tidy(() => {
      const stored = variables.map((v, i) => (known[i] ? state.get(v, 'gv') : null));
      if (this.projection === 'global') {
        const present = stored.filter((s): s is tf.Variable => s !== null);
        const ratio = tf.div(globalNorm(gradients), tf.add(globalNorm(present), this.epsilon));
        const factor = tf.mul(ratio, this.alpha) as tf.Scalar;
        return gradients.map((g, i) =>
          stored[i] === null ? tf.clone(g) : axpbyOf(1, g, factor, stored[i] as tf.Variable),
        );
      }
      return gradients.map((g, i) => {
        const gv = stored[i];
        if (gv == null) return tf.clone(g);
        const ratio = tf.div(globalNorm([g]), tf.add(globalNorm([gv]), this.epsilon));
        return axpbyOf(1, g, tf.mul(ratio, this.alpha) as tf.Scalar, gv);
      });
    });
  }
}

tf.serialization.registerClass(LookSAM);

export function looksam(base: tf.Optimizer, options: LookSamOptions = {}): LookSAM {
  return new LookSAM(base, options);
}

export const LOOKSAM_METHOD: MethodDefinition = {
  name: 'looksam',
  title: 'LookSAM',
  summary: 'the perturbed pass every k steps; the steps between reuse its direction',
  paper: 'Liu et al., CVPR 2022',
  options: LOOKSAM_OPTIONS,
  create: (base, options) => looksam(base, options),
  passes: (o) => 1 + 1 / (o['k'] as number),
  cycle: (o) => o['k'] as number,
  replay: (c) => ({
    options: {
      rho: requiredReferenceNumber(c, 'rho'),
      k: referenceNumber(c, 'k'),
      alpha: referenceNumber(c, 'alpha'),
      ...referenceAdaptive(c),
    },
  }),
};
