/**
 * Sharpness measures around the current weights. Every function restores the weights from a
 * snapshot and undoes BatchNorm statistics changed by its forward passes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkBoolean, checkKnownOptions, checkNumber } from '../util/validate.js';
import { globalNorm } from '../math/tree.js';
import {
  assignOffset,
  checkLossFn,
  checkVariables,
  disposeAll,
  gaussianLike,
  lossAndGradients,
  lossValue,
  readScalar,
  withRestoredState,
  type LossFn,
} from './state.js';

export interface WorstCaseOptions {
  /** Radius of the ball (default 0.05). */
  rho?: number;
  /** Projected gradient ascent steps (default 20). */
  steps?: number;
  /** Length of each normalized ascent step, as a fraction of rho (default 1). */
  stepSize?: number;
  /**
   * Adaptive sharpness (ASAM, Kwon et al. 2021, Eq. 5): the ball is ‖ε / T_w‖ ≤ ρ with
   * T_w = |w| + eta, applied to every variable. Off by default.
   */
  adaptive?: boolean;
  /** η in T_w = |w| + η (default 0.01). */
  eta?: number;
  /** Seed of the random starting point on the sphere (default 0). */
  seed?: number;
}

export interface AscentPoint {
  step: number;
  loss: number;
  sharpness: number;
  /** ‖ε / T_w‖ (‖ε‖ when not adaptive). */
  radius: number;
}

export interface WorstCaseResult {
  baseLoss: number;
  /** max over evaluated points of L(w + ε) − L(w); a lower bound of the true maximum. */
  sharpness: number;
  maxLoss: number;
  rho: number;
  adaptive: boolean;
  trajectory: AscentPoint[];
}

const WORST_CASE_KEYS = ['rho', 'steps', 'stepSize', 'adaptive', 'eta', 'seed'];

function checkWorstCase(owner: string, options: WorstCaseOptions): Required<WorstCaseOptions> {
  checkKnownOptions(owner, options, WORST_CASE_KEYS);
  return {
    rho: checkNumber(owner, 'rho', options.rho ?? 0.05, { min: 0, minInclusive: false }),
    steps: checkNumber(owner, 'steps', options.steps ?? 20, { integer: true, min: 1, max: 10000 }),
    stepSize: checkNumber(owner, 'stepSize', options.stepSize ?? 1, {
      min: 0,
      minInclusive: false,
      max: 10,
    }),
    adaptive: checkBoolean(owner, 'adaptive', options.adaptive ?? false),
    eta: checkNumber(owner, 'eta', options.eta ?? 0.01, { min: 0 }),
    seed: checkNumber(owner, 'seed', options.seed ?? 0, { integer: true, min: 0 }),
  };
}

function scaledToRadius(tree: readonly tf.Tensor[], radius: number): tf.Tensor[] {
  return tf.tidy(() => {
    const norm = readScalar(globalNorm(tree));
    const factor = norm === 0 ? 0 : radius / norm;
    return tree.map((t) => tf.mul(t, factor));
  });
}

function worstCaseUnchecked(
  lossFn: LossFn,
  variables: readonly tf.Variable[],
  o: Required<WorstCaseOptions>,
): WorstCaseResult {
  return withRestoredState(variables, () => {
    const base = variables.map((v) => tf.keep(tf.clone(v)));
    const scaling = variables.map((v) =>
      o.adaptive ? tf.tidy(() => tf.add(tf.abs(v), o.eta)) : null,
    );
    const toEpsilon = (delta: readonly tf.Tensor[]) =>
      delta.map((d, i) => (scaling[i] ? tf.mul(d, scaling[i] as tf.Tensor) : tf.clone(d)));
    // Ascent in δ = ε / T_w, where the constraint is the Euclidean ball ‖δ‖ ≤ ρ.
    const start = gaussianLike(variables, o.seed);
    let delta = scaledToRadius(start, o.rho);
    disposeAll(start);
    try {
      const baseLoss = lossValue(lossFn);
      const trajectory: AscentPoint[] = [];
      for (let step = 0; step <= o.steps; step++) {
        const epsilon = toEpsilon(delta);
        assignOffset(variables, base, epsilon);
        disposeAll(epsilon);
        const radius = tf.tidy(() => readScalar(globalNorm(delta)));
        if (step === o.steps) {
          const loss = lossValue(lossFn);
          trajectory.push({ step, loss, sharpness: loss - baseLoss, radius });
          break;
        }
        const { loss, gradients } = lossAndGradients(lossFn, variables);
        trajectory.push({ step, loss, sharpness: loss - baseLoss, radius });
        const next = tf.tidy(() => {
          // ∂L/∂δ = T_w ⊙ ∂L/∂ε; normalized ascent step, then projection onto the ρ-ball.
          const ascent = gradients.map((g, i) =>
            scaling[i] ? tf.mul(g, scaling[i] as tf.Tensor) : g,
          );
          const norm = readScalar(globalNorm(ascent));
          const length = norm === 0 ? 0 : (o.stepSize * o.rho) / norm;
          const moved = delta.map((d, i) => tf.add(d, tf.mul(ascent[i] as tf.Tensor, length)));
          const movedNorm = readScalar(globalNorm(moved));
          const shrink = movedNorm > o.rho ? o.rho / movedNorm : 1;
          return moved.map((t) => tf.mul(t, shrink));
        });
        disposeAll(gradients);
        disposeAll(delta);
        delta = next;
      }
      const maxLoss = Math.max(...trajectory.map((p) => p.loss));
      return {
        baseLoss,
        sharpness: maxLoss - baseLoss,
        maxLoss,
        rho: o.rho,
        adaptive: o.adaptive,
        trajectory,
      };
    } finally {
      assignOffset(variables, base, []);
      disposeAll(base);
      disposeAll(scaling);
      disposeAll(delta);
    }
  });
}

/**
 * Worst-case sharpness max_{‖ε‖≤ρ} L(w+ε) − L(w) (Foret et al. 2021, Eq. 1; Keskar et al. 2017)
 * by projected normalized gradient ascent from a seeded random point on the ρ-sphere.
 */
export function worstCaseSharpness(
  lossFn: LossFn,
  variables: readonly tf.Variable[],
  options: WorstCaseOptions = {},
): WorstCaseResult {
  const owner = 'worstCaseSharpness';
  checkLossFn(owner, lossFn);
  checkVariables(owner, variables);
  return worstCaseUnchecked(lossFn, variables, checkWorstCase(owner, options));
}

/** Adaptive sharpness: worst case over ‖ε / (|w| + η)‖ ≤ ρ (Kwon et al. 2021, Def. 3). */
export function adaptiveSharpness(
  lossFn: LossFn,
  variables: readonly tf.Variable[],
  options: Omit<WorstCaseOptions, 'adaptive'> = {},
): WorstCaseResult {
  const owner = 'adaptiveSharpness';
  checkLossFn(owner, lossFn);
  checkVariables(owner, variables);
  return worstCaseUnchecked(
    lossFn,
    variables,
    checkWorstCase(owner, { ...options, adaptive: true }),
  );
}

export interface MSharpnessResult {
  /** Mean over parts of the per-part worst-case sharpness (Foret et al. 2021, Sec. 4.1; Andriushchenko & Flammarion 2022). */
  sharpness: number;
  m: number;
  parts: WorstCaseResult[];
}

/** m-sharpness: `partLossFns[j]` is the loss on the j-th of m disjoint parts of the batch. */
export function mSharpness(
  partLossFns: readonly LossFn[],
  variables: readonly tf.Variable[],
  options: WorstCaseOptions = {},
): MSharpnessResult {
  const owner = 'mSharpness';
  if (!Array.isArray(partLossFns) || partLossFns.length === 0) {
    throw new Error(
      `${owner}: 'partLossFns' must be a non-empty array of loss functions (one per batch part).`,
    );
  }
  partLossFns.forEach((fn, j) => checkLossFn(`${owner} (part ${j})`, fn));
  checkVariables(owner, variables);
  const o = checkWorstCase(owner, options);
  const parts = partLossFns.map((fn) => worstCaseUnchecked(fn, variables, o));
  return {
    sharpness: parts.reduce((a, p) => a + p.sharpness, 0) / parts.length,
    m: parts.length,
    parts,
  };
}

/** Loss (and optionally accuracy) at the current weights, as scalars owned by the caller. */
export type Evaluator = () => { loss: tf.Scalar; accuracy?: tf.Scalar };

export interface Evaluation {
  loss: number;
  accuracy?: number;
}

export function evaluateOnce(evaluate: Evaluator): Evaluation {
  let result: Evaluation = { loss: NaN };
  tf.tidy(() => {
    const { loss, accuracy } = evaluate();
    result = { loss: readScalar(loss) };
    if (accuracy !== undefined) result.accuracy = readScalar(accuracy);
  });
  return result;
}

export interface RobustnessOptions {
  /** Noise scales σ (default [0, 0.01, 0.02, 0.05, 0.1]). */
  sigmas?: number[];
  /** Noise draws per σ (default 5). */
  samples?: number;
  seed?: number;
  /** When true, noise on each weight is σ·|w|·z instead of σ·z (default false). */
  relative?: boolean;
}

export interface RobustnessPoint {
  sigma: number;
  meanLoss: number;
  stdLoss: number;
  meanAccuracy?: number;
  stdAccuracy?: number;
  /** E[L(w + σz)] − L(w). */
  averageSharpness: number;
}

export interface RobustnessResult {
  base: Evaluation;
  samples: number;
  relative: boolean;
  points: RobustnessPoint[];
}

function meanStd(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance =
    values.length > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

/** Average-case sharpness under Gaussian weight noise: loss/accuracy vs σ (robustness curve). */
export function robustnessCurve(
  evaluate: Evaluator,
  variables: readonly tf.Variable[],
  options: RobustnessOptions = {},
): RobustnessResult {
  const owner = 'robustnessCurve';
  if (typeof evaluate !== 'function') {
    throw new Error(
      `${owner}: 'evaluate' is ${typeof evaluate}; expected a function returning {loss, accuracy?}.`,
    );
  }
  checkVariables(owner, variables);
  checkKnownOptions(owner, options, ['sigmas', 'samples', 'seed', 'relative']);
  const sigmas = options.sigmas ?? [0, 0.01, 0.02, 0.05, 0.1];
  if (!Array.isArray(sigmas) || sigmas.length === 0) {
    throw new Error(
      `${owner}: option 'sigmas' is ${JSON.stringify(sigmas)}; expected a non-empty array of numbers >= 0.`,
    );
  }
  sigmas.forEach((s, i) => checkNumber(owner, `sigmas[${i}]`, s, { min: 0 }));
  const samples = checkNumber(owner, 'samples', options.samples ?? 5, {
    integer: true,
    min: 1,
    max: 100000,
  });
  const seed = checkNumber(owner, 'seed', options.seed ?? 0, { integer: true, min: 0 });
  const relative = checkBoolean(owner, 'relative', options.relative ?? false);

  return withRestoredState(variables, () => {
    const base = variables.map((v) => tf.keep(tf.clone(v)));
    try {
      const baseEvaluation = evaluateOnce(evaluate);
      const points = sigmas.map((sigma, si): RobustnessPoint => {
        const losses: number[] = [];
        const accuracies: number[] = [];
        for (let s = 0; s < samples; s++) {
          const noise = gaussianLike(variables, seed + 1000003 * si + s);
          const offsets = noise.map((z, i) =>
            tf.tidy(() =>
              relative ? tf.mul(tf.mul(z, tf.abs(base[i] as tf.Tensor)), sigma) : tf.mul(z, sigma),
            ),
          );
          disposeAll(noise);
          assignOffset(variables, base, offsets);
          disposeAll(offsets);
          const e = evaluateOnce(evaluate);
          losses.push(e.loss);
          if (e.accuracy !== undefined) accuracies.push(e.accuracy);
        }
        const loss = meanStd(losses);
        const point: RobustnessPoint = {
          sigma,
          meanLoss: loss.mean,
          stdLoss: loss.std,
          averageSharpness: loss.mean - baseEvaluation.loss,
        };
        if (accuracies.length > 0) {
          const accuracy = meanStd(accuracies);
          point.meanAccuracy = accuracy.mean;
          point.stdAccuracy = accuracy.std;
        }
        return point;
      });
      return { base: baseEvaluation, samples, relative, points };
    } finally {
      assignOffset(variables, base, []);
      disposeAll(base);
    }
  });
}
