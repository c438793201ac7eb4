/** Float64 reference math (independent of tfjs) and a tiny model for the diagnostics tests. */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Eigenvalues of a symmetric matrix by cyclic Jacobi rotations, descending. */
export function symmetricEigenvalues(matrix: number[][]): number[] {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const at = (i: number, j: number) => (a[i] as number[])[j] as number;
  const set = (i: number, j: number, v: number) => {
    (a[i] as number[])[j] = v;
  };
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += at(i, j) ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(at(p, q)) < 1e-300) continue;
        const theta = (at(q, q) - at(p, p)) / (2 * at(p, q));
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = at(k, p);
          const akq = at(k, q);
          set(k, p, c * akp - s * akq);
          set(k, q, s * akp + c * akq);
        }
        for (let k = 0; k < n; k++) {
          const apk = at(p, k);
          const aqk = at(q, k);
          set(p, k, c * apk - s * aqk);
          set(q, k, s * apk + c * aqk);
        }
      }
    }
  }
  return Array.from({ length: n }, (_, i) => at(i, i)).sort((x, y) => y - x);
}

/** Q Λ Qᵀ with Q from Gram–Schmidt on a fixed matrix: a dense SPD matrix with known spectrum. */
export function matrixWithSpectrum(eigenvalues: number[]): number[][] {
  const n = eigenvalues.length;
  const basis: number[][] = [];
  for (let i = 0; i < n; i++) {
    let v = Array.from(
      { length: n },
      (_, j) => Math.sin(1.3 * (i + 1) * (j + 1) + 0.7 * i) + (i === j ? 2 : 0),
    );
    for (const u of basis) {
      const d = u.reduce((s, x, k) => s + x * (v[k] as number), 0);
      v = v.map((x, k) => x - d * (u[k] as number));
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    basis.push(v.map((x) => x / norm));
  }
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) =>
      eigenvalues.reduce(
        (s, l, k) =>
          s + l * ((basis[k] as number[])[i] as number) * ((basis[k] as number[])[j] as number),
        0,
      ),
    ),
  );
}

export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += ((actual[i] as number) - (expected[i] as number)) ** 2;
    norm += (expected[i] as number) ** 2;
  }
  return Math.sqrt(diff) / Math.sqrt(norm);
}

/** Loss ½ wᵀ A w on a single variable w. */
export function quadraticLoss(
  w: tf.Variable,
  a: number[][],
): { loss: () => tf.Scalar; dispose: () => void } {
  const matrix = tf.tensor2d(a);
  return {
    loss: () =>
      tf.tidy(
        () =>
          tf.mul(
            0.5,
            tf.sum(
              tf.mul(w, tf.squeeze(tf.matMul(matrix, tf.reshape(w, [-1, 1]), false, false), [1])),
            ),
          ) as tf.Scalar,
      ),
    dispose: () => matrix.dispose(),
  };
}

export function flatValues(tensors: readonly tf.Tensor[]): number[] {
  return tensors.flatMap((t) => Array.from(t.dataSync()));
}

/** A dense 3-4-3 softmax classifier whose kernels are drawn from `seed`. */
export function tinyModel(seed: number): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.dense({
      units: 4,
      inputShape: [3],
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotNormal({ seed }),
    }),
  );
  model.add(
    tfl.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotNormal({ seed: seed + 1 }),
    }),
  );
  return model;
}
