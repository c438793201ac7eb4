/**
 * Replays reference trajectories (`golden/*.json`, computed in float64 by the papers' own code)
 * with this library: the tiny MLP
 * h = tanh(x·w1 + b1), logits = h·w2 + b2, mean softmax cross-entropy; one optimizer step per
 * batch from `init`; compares every parameter after every step, and the reported losses.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type { ReferenceCase, ReferenceReplay } from '../core/method.js';
import { AdamW } from '../optimizers/adamw.js';
import { findMethod } from '../variants/registry.js';

type Matrix = number[][];
type Params = Record<'w1' | 'b1' | 'w2' | 'b2', number[] | Matrix>;
const PARAM_NAMES = ['w1', 'b1', 'w2', 'b2'] as const;

export interface GoldenCase extends ReferenceCase {
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
 * TIE: a choice the method makes by comparing losses (XSAM's α search) met two candidates equal to
 * within float32 resolution; the method's replay took the reference's choice there, said so in its
 * notes, and every later step was still compared. UNSUPPORTED: no registered method replays the
 * case's optimizer, or the replay does not build the case's problem.
 */
export type GoldenStatus = 'PASS' | 'TIE' | 'FAIL' | 'UNSUPPORTED';

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

/** The repository's reference files. */
export const GOLDEN_DIR = fileURLToPath(new URL('../../golden/', import.meta.url));

/** The problems the replay builds: the tiny MLP (a case without `problem`). */
const PROBLEMS: readonly (string | undefined)[] = [undefined];

/**
 * How to replay a case: the base optimizer alone (`optimizer: 'base'`), or the registered method
 * of that name through its `replay` mapping; null when no registered method replays it.
 */
function replayOf(goldenCase: GoldenCase): ReferenceReplay | 'base' | null {
  if (goldenCase.optimizer === 'base') return 'base';
  return findMethod(goldenCase.optimizer)?.replay?.(goldenCase) ?? null;
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

let replayCounter = 0;

export function replayCase(file: GoldenFile, goldenCase: GoldenCase): GoldenResult {
  const problem = goldenCase['problem'] as string | undefined;
  const replay = PROBLEMS.includes(problem) ? replayOf(goldenCase) : null;
  if (replay === null) {
    return {
      name: goldenCase.name,
      status: 'UNSUPPORTED',
      maxRelativeError: NaN,
      lossRelativeError: NaN,
      ...(PROBLEMS.includes(problem)
        ? {}
        : { detail: `problem '${problem}' is not built by the replay` }),
    };
  }
  const prefix = `golden_${replayCounter++}_${goldenCase.name}`;
  const variables = PARAM_NAMES.map((name) =>
    tf.variable(tf.tensor(file.init[name] as number[]), true, `${prefix}/${name}`),
  );
  const base = buildBaseOptimizer(goldenCase);
  const method = findMethod(goldenCase.optimizer);
  const optimizer =
    replay === 'base' || method === undefined ? base : method.create(base, replay.options);
  let maxRelativeError = 0;
  let lossRelativeError = 0;
  const mismatches: string[] = [];
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
      const mismatch = replay === 'base' ? null : (replay.checkStep?.(optimizer, step) ?? null);
      if (mismatch !== null) mismatches.push(mismatch);
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
  const notes = replay === 'base' ? [] : (replay.notes ?? []);
  const tieDetail = notes.length > 0 ? `${notes.join('; ')}; compared every step` : null;
  const pass =
    maxRelativeError <= GOLDEN_TOLERANCE &&
    lossRelativeError <= GOLDEN_TOLERANCE &&
    mismatches.length === 0;
  const detail = mismatches.length > 0 ? mismatches.join('; ') : tieDetail;
  return {
    name: goldenCase.name,
    status: pass ? (tieDetail === null ? 'PASS' : 'TIE') : 'FAIL',
    maxRelativeError,
    lossRelativeError,
    ...(detail === null ? {} : { detail }),
  };
}
