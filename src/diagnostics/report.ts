/**
 * One-call diagnostics of a model: the sharpness numbers as one JSON-able object, the loss
 * landscapes as data. Plotting them to files is the CLI's report layer (cli/src/report/landscape.ts, package tfjs-sam-cli).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { checkKnownOptions, checkNumber } from '../util/validate.js';
import { enableHigherOrderGradients } from './higher-order-gradients.js';
import {
  linearInterpolation,
  landscapeSlice1D,
  landscapeSlice2D,
  type Landscape1D,
  type Landscape2D,
} from './landscape.js';
import { modelObjective, modelVariables, type ModelLoss } from './model-loss.js';
import {
  adaptiveSharpness,
  mSharpness,
  robustnessCurve,
  worstCaseSharpness,
  type RobustnessResult,
} from './sharpness.js';
import { hessianEigenvalues, hessianTrace } from './spectrum.js';

export interface SharpnessReportOptions {
  loss?: ModelLoss;
  /** Forward passes in training mode (BatchNorm batch statistics, dropout); default false. */
  training?: boolean;
  seed?: number;
  /** Top Hessian eigenvalues (default 1) and power iterations (default 50). */
  k?: number;
  iterations?: number;
  tol?: number;
  /** Hutchinson samples for the trace (default 20). */
  traceSamples?: number;
  /**
   * Examples per Hessian-vector product (default: all in one). λ_max and the trace then take
   * H·v part by part and sum the parts (the same value up to float rounding) — for models whose
   * double-backprop graph over the whole sample does not fit in memory (a transformer over
   * hundreds of token sequences can exhaust the wasm backend's 4 GiB). With `training: true`
   * BatchNorm normalizes each part with its own batch statistics, so parts change the loss there.
   */
  hvpBatchSize?: number;
  rho?: number;
  steps?: number;
  eta?: number;
  /** Batch parts for m-sharpness (default 4; 1 disables). */
  m?: number;
  sigmas?: number[];
  noiseSamples?: number;
}

export interface SharpnessReport {
  loss: number;
  accuracy?: number;
  lambdaMax: number;
  eigenvalues: number[];
  eigenvalueConvergence: {
    iterations: number;
    converged: boolean;
    relativeChange: number;
    residual: number;
  }[];
  trace: number;
  traceStandardError: number;
  traceSamples: number;
  worstCaseSharpness: number;
  adaptiveSharpness: number;
  mSharpness: number | null;
  averageSharpness: RobustnessResult['points'];
  rho: number;
  hvpMethod: string;
  warnings: string[];
}

const SHARPNESS_KEYS = [
  'loss',
  'training',
  'seed',
  'k',
  'iterations',
  'tol',
  'traceSamples',
  'hvpBatchSize',
  'rho',
  'steps',
  'eta',
  'm',
  'sigmas',
  'noiseSamples',
];

/** λ_max, trace, worst-case/adaptive/m-sharpness and the robustness curve of `model` on (x, y). */
export function sharpnessReport(
  model: tfl.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
  options: SharpnessReportOptions = {},
): SharpnessReport {
  const owner = 'sharpnessReport';
  checkKnownOptions(owner, options, SHARPNESS_KEYS);
  const objective = modelObjective(owner, model, x, y, options.loss, options.training);
  const seed = checkNumber(owner, 'seed', options.seed ?? 0, { integer: true, min: 0 });
  const rho = checkNumber(owner, 'rho', options.rho ?? 0.05, { min: 0, minInclusive: false });
  const m = checkNumber(owner, 'm', options.m ?? 4, {
    integer: true,
    min: 1,
    max: x.shape[0] as number,
  });
  const hvpBatchSize = checkNumber(
    owner,
    'hvpBatchSize',
    options.hvpBatchSize ?? (x.shape[0] as number),
    { integer: true, min: 1 },
  );
  const hessianLoss = objective.hessianLoss(hvpBatchSize);
  const undo = enableHigherOrderGradients();
  try {
    const eigen = hessianEigenvalues(hessianLoss, objective.variables, {
      k: options.k ?? 1,
      iterations: options.iterations ?? 50,
      tol: options.tol ?? 1e-4,
      seed,
    });
    const trace = hessianTrace(hessianLoss, objective.variables, {
      samples: options.traceSamples ?? 20,
      seed,
    });
    const ascent = { rho, steps: options.steps ?? 10, seed };
    const worst = worstCaseSharpness(objective.lossFn, objective.variables, ascent);
    const adaptive = adaptiveSharpness(objective.lossFn, objective.variables, {
      ...ascent,
      eta: options.eta ?? 0.01,
    });
    const mResult =
      m > 1 ? mSharpness(objective.partLossFns(m), objective.variables, ascent) : null;
    const robustness = robustnessCurve(objective.evaluate, objective.variables, {
      ...(options.sigmas && { sigmas: options.sigmas }),
      samples: options.noiseSamples ?? 5,
      seed,
    });
    const report: SharpnessReport = {
      loss: robustness.base.loss,
      lambdaMax: eigen.eigenvalues[0] as number,
      eigenvalues: eigen.eigenvalues,
      eigenvalueConvergence: eigen.details.map(
        ({ iterations, converged, relativeChange, residual }) => ({
          iterations,
          converged,
          relativeChange,
          residual,
        }),
      ),
      trace: trace.estimate,
      traceStandardError: trace.standardError,
      traceSamples: trace.samples,
      worstCaseSharpness: worst.sharpness,
      adaptiveSharpness: adaptive.sharpness,
      mSharpness: mResult ? mResult.sharpness : null,
      averageSharpness: robustness.points,
      rho,
      hvpMethod: eigen.hvpMethod,
      warnings: [...new Set([...eigen.warnings, ...trace.warnings])],
    };
    if (robustness.base.accuracy !== undefined) report.accuracy = robustness.base.accuracy;
    return report;
  } finally {
    undo();
  }
}

export interface ModelLandscapesOptions {
  loss?: ModelLoss;
  training?: boolean;
  seed?: number;
  /** Points per axis: 1D slice and interpolation (default 25), 2D slice (default 15). */
  points1d?: number;
  points2d?: number;
  range?: [number, number];
  /** Skip the 2D slice (the expensive part). */
  skip2d?: boolean;
}

export interface ModelLandscapes {
  interpolation?: Landscape1D;
  slice1d: Landscape1D;
  slice2d?: Landscape2D;
}

const LANDSCAPE_KEYS = ['loss', 'training', 'seed', 'points1d', 'points2d', 'range', 'skip2d'];

/**
 * The loss landscapes of `models[0]` (1D and 2D filter-normalized slices) and, with two models of
 * the same architecture, the linear interpolation from models[0] to models[1]. Computes only;
 * the weights are left as they were.
 */
export function modelLandscapes(
  models: tfl.LayersModel | readonly tfl.LayersModel[],
  x: tf.Tensor,
  y: tf.Tensor,
  options: ModelLandscapesOptions = {},
): ModelLandscapes {
  checkKnownOptions('modelLandscapes', options, LANDSCAPE_KEYS);
  return computeLandscapes('modelLandscapes', models, x, y, options);
}

/**
 * `modelLandscapes` for a caller that has checked the option names itself; errors name `owner`.
 * @internal
 */
export function computeLandscapes(
  owner: string,
  models: tfl.LayersModel | readonly tfl.LayersModel[],
  x: tf.Tensor,
  y: tf.Tensor,
  options: ModelLandscapesOptions,
): ModelLandscapes {
  const list = Array.isArray(models)
    ? (models as readonly tfl.LayersModel[])
    : [models as tfl.LayersModel];
  if (list.length < 1 || list.length > 2) {
    throw new Error(`${owner}: 'models' holds ${list.length} models; expected 1 or 2.`);
  }
  const model = list[0] as tfl.LayersModel;
  const objective = modelObjective(owner, model, x, y, options.loss, options.training);
  const seed = options.seed ?? 0;
  const range = options.range ?? [-1, 1];
  const slice1d = landscapeSlice1D(objective.evaluate, objective.variables, {
    seed,
    range,
    points: options.points1d ?? 25,
  });
  const landscapes: ModelLandscapes = { slice1d };
  if (!options.skip2d) {
    landscapes.slice2d = landscapeSlice2D(objective.evaluate, objective.variables, {
      seed: seed + 100,
      range,
      points: options.points2d ?? 15,
    });
  }
  if (list.length === 2) {
    const other = modelVariables(list[1] as tfl.LayersModel);
    if (other.length !== objective.variables.length) {
      throw new Error(
        `${owner}: the two models have ${objective.variables.length} and ${other.length} trainable weights; they must share an architecture.`,
      );
    }
    const weightsA = objective.variables.map((v) => tf.clone(v));
    landscapes.interpolation = linearInterpolation(
      objective.evaluate,
      objective.variables,
      weightsA,
      other,
      {
        range: [-0.5, 1.5],
        points: options.points1d ?? 25,
      },
    );
    weightsA.forEach((t) => t.dispose());
  }
  return landscapes;
}
