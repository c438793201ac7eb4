/**
 * The ascent directions of SAM and ASAM as pure functions of gradients (and weights).
 * Returned tensors belong to the caller.
 */
import * as tf from '@tensorflow/tfjs-core';
import { axpbyOf, dotOf } from './fused-ops.js';
import { globalNorm, type Tree } from './tree.js';

/**
 * SAM (Foret et al. 2021, Eq. 2): ε = ρ·g / (‖g‖ + ϵ), as one factor ρ/(‖g‖ + ϵ) times g
 * (davda54/sam's order of rounding).
 */
export function samPerturbation(gradients: Tree, rho: number, epsilon: number): tf.Tensor[] {
  return tf.tidy(() => {
    const factor = tf.div(rho, tf.add(globalNorm(gradients), epsilon)) as tf.Scalar;
    return gradients.map((g) => tf.mul(g, factor));
  });
}

/**
 * w + ρ/(‖s‖ + ϵ)·s per tensor, the factor formed on the host from the float32 norm of the whole
 * list s (SAMPa's perturbed point x̃, Xie et al. 2024, Alg. 1, s the stored gradient).
 */
export function normalizedStepFrom(
  weights: Tree,
  direction: Tree,
  rho: number,
  epsilon: number,
): tf.Tensor[] {
  const norm = globalNorm(direction);
  const factor = rho / ((norm.dataSync()[0] as number) + epsilon);
  norm.dispose();
  return tf.tidy(() => weights.map((w, i) => axpbyOf(1, w, factor, direction[i] as tf.Tensor)));
}

/** How ASAM's T_w is formed: per element |w| + η, or per tensor ‖w‖ + η (layer-wise). */
export type AdaptiveScaling = 'elementwise' | 'layerwise';

/** T_w of one tensor, or 1 where the mask leaves it unscaled. */
function scalingOf(
  w: tf.Tensor,
  scaled: boolean,
  eta: number,
  form: AdaptiveScaling,
): tf.Tensor | number {
  if (!scaled) return 1;
  return form === 'layerwise' ? tf.add(tf.norm(w), eta) : tf.add(tf.abs(w), eta);
}

/**
 * ASAM (Kwon et al. 2021, Eq. 9 with T_w = |w| + η): ε = ρ·T_w²·g / (‖T_w·g‖ + ϵ).
 * `adaptiveMask[i]` false gives T = 1 for that tensor (the official recipe keeps biases and
 * normalization offsets unscaled); with η = 0 and every mask true this is davda54/sam's form.
 * `layerwise`: T_w = ‖w‖ + η per tensor (SAM-ON's official layer-wise option).
 */
export function adaptivePerturbation(
  gradients: Tree,
  weights: Tree,
  adaptiveMask: readonly boolean[],
  rho: number,
  eta: number,
  epsilon: number,
  form: AdaptiveScaling = 'elementwise',
): tf.Tensor[] {
  // Tensor by tensor, so that at most one extra full-size tensor lives besides the result.
  const scaling = (i: number) =>
    scalingOf(weights[i] as tf.Tensor, adaptiveMask[i] === true, eta, form);
  return tf.tidy(() => {
    const squaredNorms = gradients.map((g, i) =>
      tf.tidy(() => {
        const scaled = tf.mul(scaling(i), g);
        return dotOf(scaled, scaled);
      }),
    );
    const norm = tf.sqrt(squaredNorms.length === 0 ? tf.scalar(0) : tf.addN(squaredNorms));
    const factor = tf.div(rho, tf.add(norm, epsilon)) as tf.Scalar;
    return gradients.map((g, i) =>
      tf.tidy(() => {
        const t = scaling(i);
        return tf.mul(tf.mul(tf.mul(t, t), g), factor);
      }),
    );
  });
}

/**
 * The ascent in an ∞-norm ball (Foret et al. 2021, Eq. 2 with p = ∞; SAM-ON's `p = infinity`):
 * ε = ρ·sign(g), and ε = ρ·T_w·sign(g) where ASAM scales the tensor — no normalization.
 */
export function infinityPerturbation(
  gradients: Tree,
  weights: Tree,
  adaptiveMask: readonly boolean[] | null,
  rho: number,
  eta: number,
  form: AdaptiveScaling = 'elementwise',
): tf.Tensor[] {
  return gradients.map((g, i) =>
    tf.tidy(() => {
      const direction = tf.mul(tf.sign(g), rho);
      return adaptiveMask === null
        ? direction
        : tf.mul(
            direction,
            scalingOf(weights[i] as tf.Tensor, adaptiveMask[i] === true, eta, form),
          );
    }),
  );
}

/**
 * Whether ASAM's scaling applies to a variable under the official recipe: weight kernels,
 * embeddings and normalization scales yes; biases and normalization offsets (`…/bias`,
 * `…/beta`, with tfjs' `_N` uniquifying suffix) no.
 */
export function isScaleLikeVariable(name: string): boolean {
  const last = name.split('/').pop() ?? name;
  const base = last.replace(/_\d+$/, '');
  return base !== 'bias' && base !== 'beta';
}

/** Which variables a step perturbs and how, as SAM, ASAM and SAM-ON decide it (names only). */
export interface PerturbationPlan {
  /** Per variable: perturbed at all (SAM-ON: normalization parameters; ESAM: a random subset). */
  perturbedMask: readonly boolean[];
  adaptive: boolean;
  /** Per variable: ASAM scales it by |w| + η (otherwise T = 1). */
  adaptiveMask: readonly boolean[];
  /** ASAM's T_w per element or per tensor. */
  adaptiveScaling: AdaptiveScaling;
  /** The ball of the ascent: ε = ρ·g/‖g‖ (l2) or ρ·sign(g) (linf). */
  norm: 'l2' | 'linf';
  eta: number;
  epsilon: number;
}

/**
 * ε per variable (null: not perturbed), normalized over the perturbed variables only, ASAM-scaled
 * when the plan says so. `direction` turns the perturbed variables' gradients into the ascent
 * direction (F-SAM); the default ascends along the gradients. Returned tensors belong to the caller.
 */
export function maskedPerturbation(
  variables: readonly tf.Variable[],
  gradients: Tree,
  plan: PerturbationPlan,
  rho: number,
  direction: (variables: readonly tf.Variable[], gradients: Tree) => Tree = (_, g) => g,
): Array<tf.Tensor | null> {
  const chosen = variables.map((_, i) => i).filter((i) => plan.perturbedMask[i]);
  const chosenVariables = chosen.map((i) => variables[i] as tf.Variable);
  const chosenGradients = chosen.map((i) => gradients[i] as tf.Tensor);
  const ascent = direction(chosenVariables, chosenGradients);
  const scaled = plan.adaptive ? chosen.map((i) => plan.adaptiveMask[i] as boolean) : null;
  const epsilons =
    plan.norm === 'linf'
      ? infinityPerturbation(ascent, chosenVariables, scaled, rho, plan.eta, plan.adaptiveScaling)
      : scaled !== null
        ? adaptivePerturbation(
            ascent,
            chosenVariables,
            scaled,
            rho,
            plan.eta,
            plan.epsilon,
            plan.adaptiveScaling,
          )
        : samPerturbation(ascent, rho, plan.epsilon);
  const given = new Set(chosenGradients);
  for (const t of ascent) if (!given.has(t)) t.dispose();
  const out: Array<tf.Tensor | null> = variables.map(() => null);
  chosen.forEach((i, j) => (out[i] = epsilons[j] as tf.Tensor));
  return out;
}
