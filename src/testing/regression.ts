/** A linear least-squares problem with per-example losses, and its float64 gradients. */
import * as tf from '@tensorflow/tfjs-core';

export const X = [
  [1, 2],
  [0.5, -1],
  [-1.5, 0.3],
  [2, 1],
];
export const Y = [1, -0.5, 0.2, 3];

let counter = 0;

/** Per-example losses ½(x_i·w − y_i)² as a tfjs function of a variable w, optionally for a subset. */
export function regression(start: readonly number[] = [0.3, -0.2]) {
  const w = tf.variable(tf.tensor1d([...start]), true, `regression_${counter++}`);
  const xs = tf.tensor2d(X);
  const ys = tf.tensor1d(Y);
  const perExample = (indices: tf.Tensor1D | null): tf.Tensor1D =>
    tf.tidy(() => {
      const x = indices === null ? xs : tf.gather(xs, indices);
      const y = indices === null ? ys : tf.gather(ys, indices);
      const residual = tf.sub(tf.squeeze(tf.matMul(x, tf.reshape(w, [2, 1])), [1]), y);
      return tf.mul(0.5, tf.square(residual)) as tf.Tensor1D;
    });
  const meanOver = (rows: number[]) => () =>
    tf.tidy(() => tf.mean(perExample(tf.tensor1d(rows, 'int32'))) as tf.Scalar);
  return {
    w,
    perExample,
    meanOver,
    values: () => Array.from(w.dataSync()),
    dispose: () => tf.dispose([w, xs, ys]),
  };
}

/** Float64 per-example losses at w. */
export function lossesAt(w: readonly number[], rows: readonly number[] = [0, 1, 2, 3]): number[] {
  return rows.map((r) => {
    const x = X[r] as number[];
    const e =
      (x[0] as number) * (w[0] as number) + (x[1] as number) * (w[1] as number) - (Y[r] as number);
    return 0.5 * e * e;
  });
}

/** Float64 gradient of the mean loss over `rows` at w. */
export function gradientAt(w: readonly number[], rows: readonly number[] = [0, 1, 2, 3]): number[] {
  let g0 = 0;
  let g1 = 0;
  for (const r of rows) {
    const x = X[r] as number[];
    const e =
      (x[0] as number) * (w[0] as number) + (x[1] as number) * (w[1] as number) - (Y[r] as number);
    g0 += (e * (x[0] as number)) / rows.length;
    g1 += (e * (x[1] as number)) / rows.length;
  }
  return [g0, g1];
}
