/**
 * Pure math on lists of tensors ("trees"): the building blocks every sharpness-aware method
 * shares. Each function returns new tensors and disposes every intermediate it creates; the
 * caller owns (and disposes) what it gets back. Nothing here touches variables or optimizers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { axpbyOf, dotOf, finiteProbeOf, gramOf } from './fused-ops.js';

export type Tree = readonly tf.Tensor[];

function assertSameLength(a: Tree, b: Tree, what: string): void {
  if (a.length !== b.length) {
    throw new Error(
      `${what}: the two lists have ${a.length} and ${b.length} tensors; they must match`,
    );
  }
}

/** Sum of squares of every element of every tensor. */
export function sumOfSquares(tree: Tree): tf.Scalar {
  return tf.tidy(() => {
    if (tree.length === 0) return tf.scalar(0);
    return tf.addN(tree.map((t) => dotOf(t, t))) as tf.Scalar;
  });
}

/** Global L2 norm over all elements of all tensors: sqrt(Σ_t ‖t‖²). */
export function globalNorm(tree: Tree): tf.Scalar {
  return tf.tidy(() => tf.sqrt(sumOfSquares(tree)));
}

/** Σ_t ⟨a_t, b_t⟩ over the whole list. */
export function dot(a: Tree, b: Tree): tf.Scalar {
  assertSameLength(a, b, 'dot');
  return tf.tidy(() => {
    if (a.length === 0) return tf.scalar(0);
    return tf.addN(a.map((t, i) => dotOf(t, b[i] as tf.Tensor))) as tf.Scalar;
  });
}

export function scale(tree: Tree, factor: tf.Scalar | number): tf.Tensor[] {
  return tree.map((t) => tf.mul(t, factor));
}

export function add(a: Tree, b: Tree): tf.Tensor[] {
  assertSameLength(a, b, 'add');
  return a.map((t, i) => tf.add(t, b[i] as tf.Tensor));
}

export function sub(a: Tree, b: Tree): tf.Tensor[] {
  assertSameLength(a, b, 'sub');
  return a.map((t, i) => tf.sub(t, b[i] as tf.Tensor));
}

/** a + factor·b, elementwise over the list (one pass per tensor where the backend fuses it). */
export function addScaled(a: Tree, b: Tree, factor: tf.Scalar | number): tf.Tensor[] {
  assertSameLength(a, b, 'addScaled');
  return a.map((t, i) => axpbyOf(1, t, factor, b[i] as tf.Tensor));
}

/** ca·a + cb·b, elementwise over the list. */
export function linearCombination(
  ca: tf.Scalar | number,
  a: Tree,
  cb: tf.Scalar | number,
  b: Tree,
): tf.Tensor[] {
  assertSameLength(a, b, 'linearCombination');
  return a.map((t, i) => axpbyOf(ca, t, cb, b[i] as tf.Tensor));
}

/** [Σ‖a_t‖², Σ‖b_t‖², Σ⟨a_t, b_t⟩] over the list, read in one pass per pair of tensors. */
export function gram(a: Tree, b: Tree): tf.Tensor1D {
  assertSameLength(a, b, 'gram');
  return tf.tidy(() => {
    if (a.length === 0) return tf.zeros([3]) as tf.Tensor1D;
    return tf.addN(a.map((t, i) => gramOf(t, b[i] as tf.Tensor))) as tf.Tensor1D;
  });
}

/** tree / (‖tree‖ + epsilon): the unit direction, and exactly zero for a zero tree. */
export function normalize(tree: Tree, epsilon: number): tf.Tensor[] {
  return tf.tidy(() => {
    const inverse = tf.div(1, tf.add(globalNorm(tree), epsilon));
    return scale(tree, inverse as tf.Scalar);
  });
}

/** If ‖tree‖ > maxNorm, rescales the whole list to norm maxNorm; otherwise returns copies. */
export function clipByGlobalNorm(tree: Tree, maxNorm: number, epsilon = 1e-12): tf.Tensor[] {
  return tf.tidy(() => {
    const norm = globalNorm(tree);
    const factor = tf.minimum(1, tf.div(maxNorm, tf.add(norm, epsilon)));
    return scale(tree, factor as tf.Scalar);
  });
}

/**
 * The component of `a` orthogonal to `b`: a − (⟨a,b⟩ / (‖b‖² + ε))·b, with inner product and
 * norm taken over the whole list (GSAM's g⊥, Zhuang et al. 2022, Alg. 1).
 */
export function orthogonalComponent(a: Tree, b: Tree, epsilon: number): tf.Tensor[] {
  assertSameLength(a, b, 'orthogonalComponent');
  return tf.tidy(() => {
    const [, bb, ab] = tf.unstack(gram(a, b)) as [tf.Scalar, tf.Scalar, tf.Scalar];
    const coefficient = tf.neg(tf.div(ab, tf.add(bb, epsilon))) as tf.Scalar;
    return a.map((t, i) => axpbyOf(1, t, coefficient, b[i] as tf.Tensor));
  });
}

/** The same projection done tensor by tensor (LookSAM's per-tensor variant). */
export function orthogonalComponentPerTensor(a: Tree, b: Tree, epsilon: number): tf.Tensor[] {
  assertSameLength(a, b, 'orthogonalComponentPerTensor');
  return a.map((t, i) => orthogonalComponent([t], [b[i] as tf.Tensor], epsilon)[0] as tf.Tensor);
}

/**
 * Spherical interpolation between unit directions v0 and v1 (XSAM, arXiv 2603.10048):
 * (sin((1−α)θ)·v0 + sin(αθ)·v1) / sin θ with θ = arccos⟨v0,v1⟩ (argument clamped to [−1, 1]);
 * the mean (v0 + v1)/2 when sin θ < 1e-8. α may lie outside [0, 1] (extrapolation).
 * `theta` may be given when the caller already knows it.
 */
export function slerp(v0: Tree, v1: Tree, alpha: number, theta?: number): tf.Tensor[] {
  assertSameLength(v0, v1, 'slerp');
  const angle = theta ?? angleBetween(v0, v1);
  const sinTheta = Math.sin(angle);
  if (Math.abs(sinTheta) < 1e-8) {
    return v0.map((t, i) => tf.tidy(() => tf.mul(tf.add(t, v1[i] as tf.Tensor), 0.5)));
  }
  const w0 = Math.sin((1 - alpha) * angle) / sinTheta;
  const w1 = Math.sin(alpha * angle) / sinTheta;
  return v0.map((t, i) => tf.tidy(() => tf.add(tf.mul(t, w0), tf.mul(v1[i] as tf.Tensor, w1))));
}

/**
 * ‖b‖·slerp(a/(‖a‖+ϵ), b/(‖b‖+ϵ), α) — XSAM's update (arXiv 2603.10048) — written as c_a·a + c_b·b
 * from ‖a‖, ‖b‖ and ⟨a, b⟩ (read at once, one pass where the backend fuses it), so the unit
 * directions are never formed: two passes over the tensors instead of five. The same clamping and sin θ < 1e-8 fallback as `slerp`.
 */
export function scaledSlerp(a: Tree, b: Tree, alpha: number, epsilon: number): tf.Tensor[] {
  assertSameLength(a, b, 'scaledSlerp');
  const sums = gram(a, b);
  const [aa, bb, inner] = sums.dataSync() as unknown as [number, number, number];
  sums.dispose();
  const normA = Math.fround(Math.sqrt(aa));
  const normB = Math.fround(Math.sqrt(bb));
  const unitA = normA + epsilon;
  const unitB = normB + epsilon;
  const angle = Math.acos(Math.min(1, Math.max(-1, inner / (unitA * unitB))));
  const sinTheta = Math.sin(angle);
  const [w0, w1] =
    Math.abs(sinTheta) < 1e-8
      ? [0.5, 0.5]
      : [Math.sin((1 - alpha) * angle) / sinTheta, Math.sin(alpha * angle) / sinTheta];
  const coefficientA = (normB * w0) / unitA;
  const coefficientB = (normB * w1) / unitB;
  return linearCombination(coefficientA, a, coefficientB, b);
}

/** arccos of the clamped inner product of two unit-norm trees, in radians (reads one scalar). */
export function angleBetween(v0: Tree, v1: Tree): number {
  const cosine = dot(v0, v1);
  const value = cosine.dataSync()[0] as number;
  cosine.dispose();
  return Math.acos(Math.min(1, Math.max(-1, value)));
}

/**
 * A scalar that is 0 when every element of every tensor is finite and NaN otherwise
 * (x − x is 0 for finite x and NaN for ±Inf and NaN; summing zeros cannot overflow).
 */
export function finiteProbe(tree: Tree): tf.Scalar {
  return tf.tidy(() => {
    if (tree.length === 0) return tf.scalar(0);
    return tf.addN(tree.map((t) => finiteProbeOf(t))) as tf.Scalar;
  });
}

/** True when every element of every tensor is finite (reads one scalar). */
export function allFinite(tree: Tree): boolean {
  const probe = finiteProbe(tree);
  const value = probe.dataSync()[0] as number;
  probe.dispose();
  return Number.isFinite(value);
}
