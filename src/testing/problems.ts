/** Small problems with known gradients, shared by the optimizer tests. */
import * as tf from '@tensorflow/tfjs-core';

let counter = 0;

/** L(w) = ½(w₁² + 4w₂²) from w = (1, 1): ∇L = (w₁, 4w₂), Hessian diag(1, 4). */
export function quadratic(start: readonly [number, number] = [1, 1]) {
  const w = tf.variable(tf.tensor1d([...start]), true, `quadratic_${counter++}`);
  const loss = () => tf.mul(0.5, tf.sum(tf.mul(tf.tensor1d([1, 4]), tf.square(w)))) as tf.Scalar;
  return { w, loss, values: () => Array.from(w.dataSync()), dispose: () => w.dispose() };
}

/** Float64 gradient of the quadratic above. */
export function quadraticGradient(w: readonly number[]): number[] {
  return [w[0] as number, 4 * (w[1] as number)];
}

export const norm = (v: readonly number[]) => Math.hypot(...v);
export const dot = (a: readonly number[], b: readonly number[]) =>
  a.reduce((s, x, i) => s + x * (b[i] as number), 0);
export const axpy = (a: number, x: readonly number[], y: readonly number[]) =>
  y.map((v, i) => v + a * (x[i] as number));

/** Float64 SAM ascent point w + ρ·g/‖g‖ of the quadratic. */
export function samPoint(w: readonly number[], rho: number): number[] {
  const g = quadraticGradient(w);
  return axpy(rho / norm(g), g, w);
}

export function assertClose(
  actual: readonly number[],
  expected: readonly number[],
  tolerance: number,
  label = '',
): void {
  actual.forEach((v, i) => {
    const e = expected[i] as number;
    if (!(Math.abs(v - e) <= tolerance * Math.max(1, Math.abs(e)))) {
      throw new Error(`${label}[${i}]: ${v} differs from ${e} by more than ${tolerance}`);
    }
  });
}
