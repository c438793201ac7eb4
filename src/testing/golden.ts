/**
 * Replays reference trajectories (`../shared/golden` format) with this library: the tiny MLP
 * h = tanh(x·w1 + b1), logits = h·w2 + b2, mean softmax cross-entropy; one optimizer step per
 * batch from `init`; compares every parameter after every step, and the reported losses.
 */
import * as tf from '@tensorflow/tfjs-core';
import { sam, type SamOptions } from '../core/sam.js';
import { AdamW } from '../optimizers/adamw.js';
import { fsam } from '../variants/fsam.js';
import { gsam } from '../variants/gsam.js';
import { looksam } from '../variants/looksam.js';
import { msam } from '../variants/msam.js';
import { wsam } from '../variants/wsam.js';
import { XSAM, type XsamOptions } from '../variants/xsam.js';

type Matrix = number[][];
type Params = Record<'w1' | 'b1' | 'w2' | 'b2', number[] | Matrix>;
const PARAM_NAMES = ['w1', 'b1', 'w2', 'b2'] as const;

export interface GoldenCase {
  name: string;
  optimizer: string;
  base: string;
  baseConfig: Record<string, unknown>;
  config: Record<string, unknown>;
  losses: number[];
  params: Params[];
  alphas?: number[];
}

export interface GoldenFile {
  init: Params;
  batches: Array<{ x: Matrix; y: number[] }>;
  cases: GoldenCase[];
}

/**
 * TIE: XSAM's α search met a grid point whose probe loss equals the reference's choice to within
 * float32 resolution (FLOAT32_TIE_ULPS units in the last place): the arg max there is decided by
 * rounding, not by the method. The replay then takes the reference's α at that step and goes on
 * comparing every later step, so a TIE case is checked over its whole trajectory.
 */
export type GoldenStatus = 'PASS' | 'TIE' | 'FAIL' | 'UNSUPPORTED';

export const FLOAT32_TIE_ULPS = 4;

export interface GoldenResult {
  name: string;
  status: GoldenStatus;
  /** max over steps and tensors of max|ours − ref| / (max|ref| + 1e-8); NaN when unsupported. */
  maxRelativeError: number;
  /** The same measure for the reported losses. */
  lossRelativeError: number;
  detail?: string;
}

export const GOLDEN_TOLERANCE = 1e-4;

/** Builds the optimizer a case describes, or returns null when the method is not supported. */
export type GoldenOptimizerBuilder = (goldenCase: GoldenCase, base: tf.Optimizer) => tf.Optimizer;

// Keys a case may leave out take the method's own default (a replay of cases not seen here).
const builders = new Map<string, GoldenOptimizerBuilder>([
  ['base', (_c, base) => base],
  [
    'sam',
    (c, base) =>
      sam(base, {
        rho: num(c, 'rho'),
        ascentSteps: optional(c, 'ascentSteps'),
        epsilon: 1e-12,
        ...adaptiveAsReferences(c),
      }),
  ],
  [
    'gsam',
    (c, base) =>
      gsam(base, { rho: num(c, 'rho'), alpha: optional(c, 'alpha'), ...adaptiveAsReferences(c) }),
  ],
  [
    'wsam',
    (c, base) =>
      wsam(base, {
        rho: num(c, 'rho'),
        gamma: optional(c, 'gamma'),
        decouple: optionalFlag(c, 'decouple'),
        ...adaptiveAsReferences(c),
      }),
  ],
  [
    'looksam',
    (c, base) =>
      looksam(base, {
        rho: num(c, 'rho'),
        k: optional(c, 'k'),
        alpha: optional(c, 'alpha'),
        ...adaptiveAsReferences(c),
      }),
  ],
  [
    'fsam',
    (c, base) =>
      fsam(base, {
        rho: num(c, 'rho'),
        sigma: optional(c, 'sigma'),
        lambda: optional(c, 'lmbda') ?? optional(c, 'lambda'),
      }),
  ],
  [
    'msam',
    (c, base) => msam(base, { rho: num(c, 'rho'), weightDecay: optional(c, 'weightDecay') }),
  ],
  [
    'xsam',
    (c, base) =>
      new TieResolvingXSAM(c.alphas ?? [], base, {
        ascentSteps: optional(c, 'ascentSteps'),
        rho: num(c, 'rho'),
        rhoMax: optional(c, 'rhoMax'),
        alpha: optional(c, 'alpha'),
        alphaMax: optional(c, 'alphaMax'),
        alphaDelta: optional(c, 'alphaDelta'),
        dynamic: optionalFlag(c, 'dynamic'),
        alphaEvery: optional(c, 'alphaEvery'),
        epsilon: 1e-12,
      }),
  ],
  [
    'asam',
    (c, base) =>
      sam(base, {
        rho: num(c, 'rho'),
        ascentSteps: optional(c, 'ascentSteps'),
        adaptive: true,
        eta: optional(c, 'eta') ?? 0,
        adaptiveScope: 'all',
        epsilon: 1e-12,
      }),
  ],
]);

/** Lets each SAM variant add the replay of its golden cases next to its own code. */
export function registerGoldenBuilder(optimizer: string, builder: GoldenOptimizerBuilder): void {
  builders.set(optimizer, builder);
}

export function buildBaseOptimizer(goldenCase: GoldenCase): tf.Optimizer {
  const c = goldenCase.baseConfig;
  const lr = c['lr'] as number;
  const betas = (c['betas'] as [number, number] | undefined) ?? [0.9, 0.999];
  switch (goldenCase.base) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'momentum':
      return tf.train.momentum(lr, c['momentum'] as number);
    case 'adam':
      return tf.train.adam(lr, betas[0], betas[1], c['eps'] as number);
    case 'adamw':
      return new AdamW({
        learningRate: lr,
        beta1: betas[0],
        beta2: betas[1],
        epsilon: c['eps'] as number,
        weightDecay: c['weight_decay'] as number,
      });
    default:
      throw new Error(
        `golden case '${goldenCase.name}': unknown base optimizer '${goldenCase.base}'.`,
      );
  }
}

/** Mean softmax cross-entropy of the golden MLP. */
export function goldenLoss(
  variables: readonly tf.Variable[],
  x: tf.Tensor2D,
  labels: tf.Tensor2D,
): tf.Scalar {
  const [w1, b1, w2, b2] = variables as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
  const hidden = tf.tanh(tf.add(tf.matMul(x, w1), b1));
  const logits = tf.add(tf.matMul(hidden, w2), b2);
  return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
}

function relativeError(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < reference.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((ours[i] as number) - (reference[i] as number)));
    maxRef = Math.max(maxRef, Math.abs(reference[i] as number));
  }
  return maxDiff / (maxRef + 1e-8);
}

/**
 * `adaptive: true` in a case: the references (davda54/sam, pytorch_optimizer) scale every tensor
 * by |w| with η = 0: ε = ρ·w²·g/‖|w|·g‖.
 */
function adaptiveAsReferences(goldenCase: GoldenCase): SamOptions {
  return optionalFlag(goldenCase, 'adaptive') === true
    ? { adaptive: true, eta: 0, adaptiveScope: 'all' }
    : {};
}

/** config[key] when the case sets it (it must then be a number), else undefined. */
function optional(goldenCase: GoldenCase, key: string): number | undefined {
  return goldenCase.config[key] === undefined ? undefined : num(goldenCase, key);
}

function optionalFlag(goldenCase: GoldenCase, key: string): boolean | undefined {
  const value = goldenCase.config[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new Error(
    `golden case '${goldenCase.name}': config.${key} is ${JSON.stringify(value)}; expected true or false.`,
  );
}

function num(goldenCase: GoldenCase, key: string): number {
  const value = goldenCase.config[key];
  if (typeof value !== 'number') {
    throw new Error(
      `golden case '${goldenCase.name}': config.${key} is ${JSON.stringify(value)}; expected a number.`,
    );
  }
  return value;
}

/**
 * XSAM whose α search, where its arg max and the reference's α have probe losses within
 * FLOAT32_TIE_ULPS float32 ulps of each other, takes the reference's α and records the tie.
 * Any other disagreement is left alone (and fails the replay).
 */
class TieResolvingXSAM extends XSAM {
  readonly ties: string[] = [];

  constructor(
    private readonly referenceAlphas: readonly number[],
    base: tf.Optimizer,
    options: XsamOptions,
  ) {
    super(base, options);
  }

  protected override pickAlpha(grid: readonly number[], losses: readonly number[]): number {
    const ours = super.pickAlpha(grid, losses);
    const step = this.iterations;
    const expected = this.referenceAlphas[step];
    if (expected === undefined || Math.abs(ours - expected) < 1e-9) return ours;
    const at = (alpha: number) => grid.findIndex((a) => Math.abs(a - alpha) < 1e-9);
    const [a, b] = [losses[at(ours)] as number, losses[at(expected)]];
    if (b === undefined) return ours;
    const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(a), Math.abs(b)))) - 23);
    const gap = Math.abs(a - b);
    if (gap > FLOAT32_TIE_ULPS * ulp) return ours;
    this.ties.push(
      `step ${step}: float32 tie in the alpha search: probe loss ${a} at alpha ${ours} vs ${b} at the reference's alpha ${expected} (${(gap / ulp).toFixed(1)} ulp apart); took the reference's alpha`,
    );
    return grid[at(expected)] as number;
  }
}

let replayCounter = 0;

export function replayCase(file: GoldenFile, goldenCase: GoldenCase): GoldenResult {
  const builder = builders.get(goldenCase.optimizer);
  if (builder === undefined) {
    return {
      name: goldenCase.name,
      status: 'UNSUPPORTED',
      maxRelativeError: NaN,
      lossRelativeError: NaN,
    };
  }
  const prefix = `golden_${replayCounter++}_${goldenCase.name}`;
  const variables = PARAM_NAMES.map((name) =>
    tf.variable(tf.tensor(file.init[name] as number[]), true, `${prefix}/${name}`),
  );
  const optimizer = builder(goldenCase, buildBaseOptimizer(goldenCase));
  let maxRelativeError = 0;
  let lossRelativeError = 0;
  const alphaMismatches: string[] = [];
  try {
    file.batches.forEach((batch, step) => {
      const x = tf.tensor2d(batch.x);
      const labels = tf.tidy(
        () => tf.cast(tf.oneHot(tf.tensor1d(batch.y, 'int32'), 3), 'float32') as tf.Tensor2D,
      );
      const loss = optimizer.minimize(() => goldenLoss(variables, x, labels), true, variables);
      const reportedLoss = loss?.dataSync()[0] ?? NaN;
      tf.dispose([x, labels, loss as tf.Tensor]);
      const expectedLoss = goldenCase.losses[step] as number;
      lossRelativeError = Math.max(
        lossRelativeError,
        Math.abs(reportedLoss - expectedLoss) / (Math.abs(expectedLoss) + 1e-8),
      );
      const expectedAlpha = goldenCase.alphas?.[step];
      if (expectedAlpha !== undefined) {
        const used = (optimizer as { alpha?: unknown }).alpha;
        if (typeof used !== 'number' || Math.abs(used - expectedAlpha) > 1e-9) {
          alphaMismatches.push(`step ${step}: alpha ${String(used)}, expected ${expectedAlpha}`);
        }
      }
      const expected = goldenCase.params[step] as Params;
      PARAM_NAMES.forEach((name, i) => {
        const reference = (expected[name] as number[] | Matrix).flat() as number[];
        const error = relativeError((variables[i] as tf.Variable).dataSync(), reference);
        maxRelativeError = Math.max(maxRelativeError, Number.isNaN(error) ? Infinity : error);
      });
    });
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
  }
  // Not instanceof: tf.Optimizer's Symbol.hasInstance accepts any object that looks like one.
  const ties = Object.prototype.isPrototypeOf.call(TieResolvingXSAM.prototype, optimizer)
    ? (optimizer as TieResolvingXSAM).ties
    : [];
  const tieDetail = ties.length > 0 ? `${ties.join('; ')}; compared every step` : null;
  const pass =
    maxRelativeError <= GOLDEN_TOLERANCE &&
    lossRelativeError <= GOLDEN_TOLERANCE &&
    alphaMismatches.length === 0;
  const detail = alphaMismatches.length > 0 ? alphaMismatches.join('; ') : tieDetail;
  return {
    name: goldenCase.name,
    status: pass ? (tieDetail === null ? 'PASS' : 'TIE') : 'FAIL',
    maxRelativeError,
    lossRelativeError,
    ...(detail === null ? {} : { detail }),
  };
}
