/**
 * Loss landscapes (Li et al. 2018, "Visualizing the Loss Landscape of Neural Nets"): 1D linear
 * interpolation between two weight sets, and 1D/2D slices along seeded random filter-normalized
 * directions. Results are plain JSON-able objects.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkKnownOptions, checkNumber } from '../util/validate.js';
import { evaluateOnce, type Evaluation, type Evaluator } from './sharpness.js';
import {
  assignOffset,
  checkVariables,
  disposeAll,
  gaussianLike,
  withRestoredState,
} from './state.js';

/**
 * A random direction with the norm of every filter matched to the corresponding weight filter
 * (Li et al. 2018, Sec. 4, Eq. for d_{i,j}). A filter is a slice along the last axis (the output
 * channel of a conv kernel [h, w, in, out], the output unit of a dense kernel [in, out]).
 * Variables of rank ≤ 1 (biases, BatchNorm γ/β, moving statistics) get a zero direction, the
 * paper's "ignore biasbn" setting used for its figures.
 */
export function filterNormalizedDirection(
  variables: readonly tf.Tensor[],
  seed: number,
): tf.Tensor[] {
  const noise = gaussianLike(variables, seed);
  const direction = variables.map((w, i) =>
    tf.tidy(() => {
      const d = noise[i] as tf.Tensor;
      if (w.rank <= 1) return tf.zerosLike(w);
      const axes = Array.from({ length: w.rank - 1 }, (_, a) => a);
      const weightNorm = tf.sqrt(tf.sum(tf.square(w), axes, true));
      const directionNorm = tf.sqrt(tf.sum(tf.square(d), axes, true));
      return tf.mul(d, tf.div(weightNorm, tf.add(directionNorm, 1e-10)));
    }),
  );
  disposeAll(noise);
  return direction;
}

export interface LandscapePoint1D extends Evaluation {
  alpha: number;
}

export interface LandscapePoint2D extends Evaluation {
  alpha: number;
  beta: number;
}

export interface Landscape1D {
  kind: 'interpolation' | 'slice1d';
  points: LandscapePoint1D[];
  seed?: number;
}

export interface Landscape2D {
  kind: 'slice2d';
  alphas: number[];
  betas: number[];
  points: LandscapePoint2D[];
  seed: number;
}

function grid(owner: string, range: unknown, points: unknown, name: string): number[] {
  const [low, high] = Array.isArray(range) ? (range as number[]) : [NaN, NaN];
  if (
    !Array.isArray(range) ||
    range.length !== 2 ||
    !Number.isFinite(low) ||
    !Number.isFinite(high) ||
    !(low! < high!)
  ) {
    throw new Error(
      `${owner}: option '${name}' is ${JSON.stringify(range)}; expected [low, high] with finite low < high.`,
    );
  }
  const count = checkNumber(owner, `${name}Points`, points, { integer: true, min: 2, max: 1001 });
  return Array.from({ length: count }, (_, i) => low! + ((high! - low!) * i) / (count - 1));
}

export interface InterpolationOptions {
  /** α range; w(α) = (1 − α)·A + α·B (default [-0.5, 1.5]). */
  range?: [number, number];
  points?: number;
}

/** 1D linear interpolation between weight sets A and B (Goodfellow et al. 2015). */
export function linearInterpolation(
  evaluate: Evaluator,
  variables: readonly tf.Variable[],
  weightsA: readonly tf.Tensor[],
  weightsB: readonly tf.Tensor[],
  options: InterpolationOptions = {},
): Landscape1D {
  const owner = 'linearInterpolation';
  checkVariables(owner, variables);
  checkKnownOptions(owner, options, ['range', 'points']);
  for (const [label, set] of [
    ['weightsA', weightsA],
    ['weightsB', weightsB],
  ] as const) {
    if (!Array.isArray(set) || set.length !== variables.length) {
      throw new Error(
        `${owner}: '${label}' must hold ${variables.length} tensors (one per variable).`,
      );
    }
    set.forEach((t, i) => {
      if (!tf.util.arraysEqual(t.shape, (variables[i] as tf.Variable).shape)) {
        throw new Error(
          `${owner}: '${label}[${i}]' has shape [${t.shape}], expected [${(variables[i] as tf.Variable).shape}].`,
        );
      }
    });
  }
  const alphas = grid(owner, options.range ?? [-0.5, 1.5], options.points ?? 21, 'range');
  return withRestoredState(variables, () => {
    const difference = weightsA.map((a, i) => tf.sub(weightsB[i] as tf.Tensor, a));
    try {
      const points = alphas.map((alpha) => {
        const offsets = difference.map((d) => tf.mul(d, alpha));
        assignOffset(variables, weightsA, offsets);
        disposeAll(offsets);
        return { alpha, ...evaluateOnce(evaluate) };
      });
      return { kind: 'interpolation' as const, points };
    } finally {
      disposeAll(difference);
    }
  });
}

export interface SliceOptions {
  range?: [number, number];
  points?: number;
  seed?: number;
}

function checkSlice(owner: string, options: SliceOptions): { axis: number[]; seed: number } {
  checkKnownOptions(owner, options, ['range', 'points', 'seed']);
  return {
    axis: grid(owner, options.range ?? [-1, 1], options.points ?? 21, 'range'),
    seed: checkNumber(owner, 'seed', options.seed ?? 0, { integer: true, min: 0 }),
  };
}

/** Loss along w + α·d for a seeded filter-normalized direction d. */
export function landscapeSlice1D(
  evaluate: Evaluator,
  variables: readonly tf.Variable[],
  options: SliceOptions = {},
): Landscape1D {
  const owner = 'landscapeSlice1D';
  checkVariables(owner, variables);
  const { axis, seed } = checkSlice(owner, options);
  return withRestoredState(variables, () => {
    const base = variables.map((v) => tf.keep(tf.clone(v)));
    const direction = filterNormalizedDirection(base, seed);
    try {
      const points = axis.map((alpha) => {
        const offsets = direction.map((d) => tf.mul(d, alpha));
        assignOffset(variables, base, offsets);
        disposeAll(offsets);
        return { alpha, ...evaluateOnce(evaluate) };
      });
      return { kind: 'slice1d' as const, points, seed };
    } finally {
      assignOffset(variables, base, []);
      disposeAll(base);
      disposeAll(direction);
    }
  });
}

/** Loss on the plane w + α·d₁ + β·d₂ for two seeded filter-normalized directions. */
export function landscapeSlice2D(
  evaluate: Evaluator,
  variables: readonly tf.Variable[],
  options: SliceOptions = {},
): Landscape2D {
  const owner = 'landscapeSlice2D';
  checkVariables(owner, variables);
  const { axis, seed } = checkSlice(owner, options);
  return withRestoredState(variables, () => {
    const base = variables.map((v) => tf.keep(tf.clone(v)));
    const first = filterNormalizedDirection(base, seed);
    const second = filterNormalizedDirection(base, seed + 1);
    try {
      const points: LandscapePoint2D[] = [];
      for (const beta of axis) {
        for (const alpha of axis) {
          const offsets = first.map((d, i) =>
            tf.tidy(() => tf.add(tf.mul(d, alpha), tf.mul(second[i] as tf.Tensor, beta))),
          );
          assignOffset(variables, base, offsets);
          disposeAll(offsets);
          points.push({ alpha, beta, ...evaluateOnce(evaluate) });
        }
      }
      return { kind: 'slice2d', alphas: axis, betas: axis, points, seed };
    } finally {
      assignOffset(variables, base, []);
      disposeAll(base);
      disposeAll(first);
      disposeAll(second);
    }
  });
}
