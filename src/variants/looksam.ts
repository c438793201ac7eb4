/**
 * LookSAM (Liu et al., CVPR 2022, "Towards Efficient and Scalable Sharpness-Aware Minimization",
 * Alg. 2): the perturbed pass runs every k-th step only, storing g_v = g_sam − (projection of
 * g_sam on g); the steps in between take one forward/backward pass and hand the base
 * g + α·(‖g‖/‖g_v‖)·g_v. Projection per tensor (pytorch_optimizer, the golden file) or over all
 * variables at once (the paper).
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM, type SamOptions, type StepContext } from '../core/sam.js';
import { NamedSlots } from '../optimizers/slots.js';
import { checkChoice, checkNumber } from '../util/validate.js';
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

export class LookSAM extends SAM {
  static override get className(): string {
    return 'LookSAM';
  }

  readonly k: number;
  readonly alpha: number;
  readonly projection: LookSamProjection;

  constructor(base: tf.Optimizer, options: LookSamOptions = {}) {
    const { k, alpha, projection, ...samOptions } = options;
    super(base, samOptions);
    this.keepsFirstGradients = true;
    this.k = checkNumber('LookSAM', 'k', k ?? 5, { min: 1, integer: true });
    this.alpha = checkNumber('LookSAM', 'alpha', alpha ?? 0.7, { min: 0 });
    this.projection = checkChoice('LookSAM', 'projection', projection ?? 'per-tensor', [
      'per-tensor',
      'global',
    ]);
    this.state = new NamedSlots('LookSAM', ['gv']);
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

  protected override variantConfig(): tf.serialization.ConfigDict {
    return { k: this.k, alpha: this.alpha, projection: this.projection };
  }
}

tf.serialization.registerClass(LookSAM);

export function looksam(base: tf.Optimizer, options: LookSamOptions = {}): LookSAM {
  return new LookSAM(base, options);
}
