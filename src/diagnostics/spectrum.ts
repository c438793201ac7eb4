/** Hessian spectrum estimates: top-k eigenvalues (power iteration with deflation) and trace. */
import * as tf from '@tensorflow/tfjs-core';
import { checkKnownOptions, checkNumber, checkChoice } from '../util/validate.js';
import { dot, globalNorm, type Tree } from '../math/tree.js';
import { checkHvpOptions, hvpUnchecked, type HvpOptions } from './hvp.js';
import {
  checkHessianLoss,
  checkVariables,
  disposeAll,
  gaussianLike,
  rademacherLike,
  readScalar,
  withRestoredState,
  type HessianLoss,
} from './state.js';

export interface EigenvalueOptions extends HvpOptions {
  /** Number of eigenvalues (default 1). */
  k?: number;
  /** Maximum power iterations per eigenvalue (default 100). */
  iterations?: number;
  /** Stop when |λ_t − λ_{t−1}| / |λ_t| < tol (default 1e-5). */
  tol?: number;
  seed?: number;
}

export interface EigenvalueEstimate {
  value: number;
  iterations: number;
  converged: boolean;
  /** |λ_t − λ_{t−1}| / |λ_t| at the last iteration. */
  relativeChange: number;
  /** ‖H v − λ v‖ / |λ| for the final unit vector v (deflated operator). */
  residual: number;
}

export interface EigenvalueResult {
  /** Largest in magnitude first (power iteration finds the dominant eigenvalue). */
  eigenvalues: number[];
  details: EigenvalueEstimate[];
  hvpMethod: 'double-backprop' | 'finite-difference';
  warnings: string[];
}

function project(vector: Tree, basis: readonly tf.Tensor[][]): tf.Tensor[] {
  return tf.tidy(() => {
    let current: tf.Tensor[] = vector.map((t) => tf.clone(t));
    for (const u of basis) {
      const coefficient = dot(current, u);
      current = current.map((t, i) => tf.sub(t, tf.mul(u[i] as tf.Tensor, coefficient)));
    }
    return current;
  });
}

function unit(vector: Tree): { unit: tf.Tensor[]; norm: number } {
  const norm = tf.tidy(() => readScalar(globalNorm(vector)));
  return { unit: vector.map((t) => tf.div(t, norm === 0 ? 1 : norm)), norm };
}

/**
 * Top-k Hessian eigenvalues (by magnitude) by power iteration; each new eigenvector is kept
 * orthogonal to the previous ones (deflation by projection, Yao et al. 2020 "PyHessian", Alg. 1).
 */
export function hessianEigenvalues(
  lossFn: HessianLoss,
  variables: readonly tf.Variable[],
  options: EigenvalueOptions = {},
): EigenvalueResult {
  const owner = 'hessianEigenvalues';
  checkHessianLoss(owner, lossFn);
  checkVariables(owner, variables);
  const { k, iterations, tol, seed, method, finiteDifferenceStep } = options;
  checkKnownOptions(owner, options, [
    'k',
    'iterations',
    'tol',
    'seed',
    'method',
    'finiteDifferenceStep',
  ]);
  const hvp = checkHvpOptions(owner, {
    ...(method && { method }),
    ...(finiteDifferenceStep && { finiteDifferenceStep }),
  });
  const size = variables.reduce((n, v) => n + v.size, 0);
  const count = checkNumber(owner, 'k', k ?? 1, { integer: true, min: 1, max: size });
  const maxIterations = checkNumber(owner, 'iterations', iterations ?? 100, {
    integer: true,
    min: 1,
    max: 100000,
  });
  const tolerance = checkNumber(owner, 'tol', tol ?? 1e-5, { min: 0, minInclusive: false, max: 1 });
  const baseSeed = checkNumber(owner, 'seed', seed ?? 0, { integer: true, min: 0 });

  return withRestoredState(variables, () => {
    const basis: tf.Tensor[][] = [];
    const details: EigenvalueEstimate[] = [];
    const warnings = new Set<string>();
    let hvpMethod: EigenvalueResult['hvpMethod'] = 'double-backprop';
    const apply = (v: Tree): tf.Tensor[] => {
      const result = hvpUnchecked(lossFn, variables, v, hvp.method, hvp.finiteDifferenceStep);
      if (result.warning) warnings.add(result.warning);
      hvpMethod = result.method;
      const deflated = project(result.product, basis);
      disposeAll(result.product);
      return deflated;
    };
    try {
      for (let index = 0; index < count; index++) {
        const start = gaussianLike(variables, baseSeed + index);
        const projected = project(start, basis);
        disposeAll(start);
        let v = unit(projected).unit;
        disposeAll(projected);
        let eigenvalue = 0;
        let relativeChange = Infinity;
        let used = 0;
        let residual = NaN;
        for (let t = 1; t <= maxIterations; t++) {
          used = t;
          const hv = apply(v);
          const next = tf.tidy(() => readScalar(dot(v, hv)));
          relativeChange = Math.abs(next - eigenvalue) / Math.max(Math.abs(next), 1e-30);
          eigenvalue = next;
          residual = tf.tidy(
            () =>
              readScalar(globalNorm(hv.map((h, i) => tf.sub(h, tf.mul(v[i] as tf.Tensor, next))))) /
              Math.max(Math.abs(next), 1e-30),
          );
          const normalized = unit(hv);
          disposeAll(hv);
          if (normalized.norm === 0) {
            disposeAll(normalized.unit);
            relativeChange = 0;
            break;
          }
          disposeAll(v);
          v = normalized.unit;
          if (relativeChange < tolerance) break;
        }
        basis.push(v.map((t) => tf.keep(t)));
        details.push({
          value: eigenvalue,
          iterations: used,
          converged: relativeChange < tolerance,
          relativeChange,
          residual,
        });
      }
    } finally {
      basis.forEach(disposeAll);
    }
    return {
      eigenvalues: details.map((d) => d.value),
      details,
      hvpMethod,
      warnings: [...warnings],
    };
  });
}

export interface TraceOptions extends HvpOptions {
  /** Rademacher samples for Hutchinson's estimator (default 100). */
  samples?: number;
  seed?: number;
  /** 'hutchinson' (default) or 'exact' (one H·e_i per parameter: tiny models only). */
  estimator?: 'hutchinson' | 'exact';
}

export interface TraceResult {
  estimate: number;
  /** Standard error of the mean of zᵀHz (0 for the exact estimator). */
  standardError: number;
  samples: number;
  estimator: 'hutchinson' | 'exact';
  hvpMethod: 'double-backprop' | 'finite-difference';
  warnings: string[];
}

const EXACT_TRACE_LIMIT = 20000;

/** tr(H) ≈ mean over Rademacher z of zᵀHz (Hutchinson 1989; Avron & Toledo 2011). */
export function hessianTrace(
  lossFn: HessianLoss,
  variables: readonly tf.Variable[],
  options: TraceOptions = {},
): TraceResult {
  const owner = 'hessianTrace';
  checkHessianLoss(owner, lossFn);
  checkVariables(owner, variables);
  checkKnownOptions(owner, options, [
    'samples',
    'seed',
    'estimator',
    'method',
    'finiteDifferenceStep',
  ]);
  const { method, finiteDifferenceStep } = options;
  const hvp = checkHvpOptions(owner, {
    ...(method && { method }),
    ...(finiteDifferenceStep && { finiteDifferenceStep }),
  });
  const estimator = checkChoice(owner, 'estimator', options.estimator ?? 'hutchinson', [
    'hutchinson',
    'exact',
  ]);
  const size = variables.reduce((n, v) => n + v.size, 0);
  const samples =
    estimator === 'exact'
      ? size
      : checkNumber(owner, 'samples', options.samples ?? 100, { integer: true, min: 2, max: 1e6 });
  if (estimator === 'exact' && size > EXACT_TRACE_LIMIT) {
    throw new Error(
      `${owner}: option 'estimator' is 'exact' but the model has ${size} parameters; expected at most ${EXACT_TRACE_LIMIT} (use 'hutchinson').`,
    );
  }
  const seed = checkNumber(owner, 'seed', options.seed ?? 0, { integer: true, min: 0 });

  return withRestoredState(variables, () => {
    const warnings = new Set<string>();
    let hvpMethod: TraceResult['hvpMethod'] = 'double-backprop';
    const values: number[] = [];
    const quadraticForm = (z: Tree): number => {
      const result = hvpUnchecked(lossFn, variables, z, hvp.method, hvp.finiteDifferenceStep);
      if (result.warning) warnings.add(result.warning);
      hvpMethod = result.method;
      const value = tf.tidy(() => readScalar(dot(z, result.product)));
      disposeAll(result.product);
      return value;
    };
    if (estimator === 'exact') {
      variables.forEach((variable, vi) => {
        for (let j = 0; j < variable.size; j++) {
          const basisVector = variables.map((v, i) =>
            i === vi
              ? tf.tidy(() => {
                  const values = new Float32Array(v.size);
                  values[j] = 1;
                  return tf.tensor(values, v.shape);
                })
              : tf.zerosLike(v),
          );
          values.push(quadraticForm(basisVector));
          disposeAll(basisVector);
        }
      });
      const total = values.reduce((a, b) => a + b, 0);
      return {
        estimate: total,
        standardError: 0,
        samples: values.length,
        estimator,
        hvpMethod,
        warnings: [...warnings],
      };
    }
    for (let s = 0; s < samples; s++) {
      const z = rademacherLike(variables, seed + s);
      values.push(quadraticForm(z));
      disposeAll(z);
    }
    const mean = values.reduce((a, b) => a + b, 0) / samples;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples - 1);
    return {
      estimate: mean,
      standardError: Math.sqrt(variance / samples),
      samples,
      estimator,
      hvpMethod,
      warnings: [...warnings],
    };
  });
}
