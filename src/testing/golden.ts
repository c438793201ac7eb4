/**
 * Replays reference trajectories (`golden/*.json`, computed in float64 by the papers' own code)
 * with this library: the tiny MLP
 * h = tanh(x·w1 + b1), logits = h·w2 + b2, mean softmax cross-entropy; one optimizer step per
 * batch from `init`; compares every parameter after every step, and the reported losses.
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type {
  DataSelecting,
  PreviousBatchStepping,
  ReferenceCase,
  ReferenceReplay,
} from '../core/method.js';
import { withWeightDecay } from '../optimizers/weight-decay.js';
import { capabilitiesOf } from '../toolkit/capabilities.js';
import { AdamW } from '../optimizers/adamw.js';
import { findMethod } from '../variants/registry.js';

type Matrix = number[][];
type Params = Record<string, number[] | Matrix>;

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

/**
 * The problems the replay builds: the tiny MLP (a case without `problem`), and the MLP with a
 * LayerNorm or a BatchNorm (training mode at every pass, eps 1e-5, PyTorch's) after its first layer,
 * whose scale g1 and offset be1 are named like a tfjs normalization layer's (`norm/gamma`,
 * `norm/beta`), so that methods find them as they would in a tfjs model.
 */
const PROBLEMS: Readonly<Record<string, { params: readonly string[]; axis: number | null }>> = {
  mlp: { params: ['w1', 'b1', 'w2', 'b2'], axis: null },
  layernorm: { params: ['w1', 'b1', 'g1', 'be1', 'w2', 'b2'], axis: 1 },
  batchnorm: { params: ['w1', 'b1', 'g1', 'be1', 'w2', 'b2'], axis: 0 },
};
const VARIABLE_NAMES: Readonly<Record<string, string>> = { g1: 'norm/gamma', be1: 'norm/beta' };
const NORMALIZATION_EPSILON = 1e-5;

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
  // PyTorch's coupled weight decay of SGD: the gradient becomes g + λ·p before the momentum.
  const coupled = (optimizer: tf.Optimizer) => {
    const decay = (c['weight_decay'] as number | undefined) ?? 0;
    return decay > 0 ? withWeightDecay(optimizer, decay) : optimizer;
  };
  switch (goldenCase.base) {
    case 'sgd':
      return coupled(tf.train.sgd(lr));
    case 'momentum':
      return coupled(tf.train.momentum(lr, c['momentum'] as number));
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
  return tf.losses.softmaxCrossEntropy(
    labels,
    goldenLogits(variables, x, null),
    undefined,
    0,
  ) as tf.Scalar;
}

/** The logits of the golden MLP, with the problem's normalization (`axis`: 1 layer, 0 batch). */
function goldenLogits(
  variables: readonly tf.Variable[],
  x: tf.Tensor2D,
  axis: number | null,
): tf.Tensor {
  if (axis === null) {
    const [w1, b1, w2, b2] = variables as [tf.Variable, tf.Variable, tf.Variable, tf.Variable];
    const hidden = tf.tanh(tf.add(tf.matMul(x, w1), b1));
    return tf.add(tf.matMul(hidden, w2), b2);
  }
  const [w1, b1, g1, be1, w2, b2] = variables as tf.Variable[] as [
    tf.Variable,
    tf.Variable,
    tf.Variable,
    tf.Variable,
    tf.Variable,
    tf.Variable,
  ];
  const z = tf.add(tf.matMul(x, w1), b1);
  const { mean, variance } = tf.moments(z, axis, true);
  const u = tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, NORMALIZATION_EPSILON)));
  const hidden = tf.tanh(tf.add(tf.mul(u, g1), be1));
  return tf.add(tf.matMul(hidden, w2), b2);
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
  const problemName = (goldenCase['problem'] as string | undefined) ?? 'mlp';
  const problem = PROBLEMS[problemName];
  const replay = problem === undefined ? null : replayOf(goldenCase);
  if (replay === null) {
    return {
      name: goldenCase.name,
      status: 'UNSUPPORTED',
      maxRelativeError: NaN,
      lossRelativeError: NaN,
      ...(problem === undefined
        ? { detail: `problem '${problemName}' is not built by the replay` }
        : {}),
    };
  }
  const prefix = `golden_${replayCounter++}_${goldenCase.name}`;
  const names = (problem as { params: readonly string[] }).params;
  const axis = (problem as { axis: number | null }).axis;
  const variables = names.map((name) =>
    tf.variable(
      tf.tensor(file.init[name] as number[]),
      true,
      `${prefix}/${VARIABLE_NAMES[name] ?? name}`,
    ),
  );
  const base = buildBaseOptimizer(goldenCase);
  const method = findMethod(goldenCase.optimizer);
  const optimizer =
    replay === 'base' || method === undefined ? base : method.create(base, replay.options);
  let maxRelativeError = 0;
  let lossRelativeError = 0;
  const mismatches: string[] = [];
  const lossNotCompared = replay === 'base' ? undefined : replay.lossNotCompared;
  const batchTensors = (batch: { x: Matrix; y: number[] }) => ({
    x: tf.tensor2d(batch.x),
    labels: tf.tidy(
      () => tf.cast(tf.oneHot(tf.tensor1d(batch.y, 'int32'), 3), 'float32') as tf.Tensor2D,
    ),
  });
  let previous: { x: tf.Tensor2D; labels: tf.Tensor2D } | null = null;
  try {
    file.batches.forEach((batch, step) => {
      const current = batchTensors(batch);
      const loss = replayStep(optimizer, variables, current, previous, axis);
      const reportedLoss = loss?.dataSync()[0] ?? NaN;
      tf.dispose([...(previous === null ? [] : [previous.x, previous.labels]), loss as tf.Tensor]);
      previous = current;
      const expectedLoss = goldenCase.losses[step] as number;
      if (lossNotCompared === undefined) {
        lossRelativeError = Math.max(
          lossRelativeError,
          Math.abs(reportedLoss - expectedLoss) / (Math.abs(expectedLoss) + 1e-8),
        );
      }
      const mismatch = replay === 'base' ? null : (replay.checkStep?.(optimizer, step) ?? null);
      if (mismatch !== null) mismatches.push(mismatch);
      const expected = goldenCase.params[step] as Params;
      names.forEach((name, i) => {
        const reference = (expected[name] as number[] | Matrix).flat() as number[];
        const error = relativeError((variables[i] as tf.Variable).dataSync(), reference);
        maxRelativeError = Math.max(maxRelativeError, Number.isNaN(error) ? Infinity : error);
      });
    });
  } finally {
    optimizer.dispose();
    const last = previous as { x: tf.Tensor2D; labels: tf.Tensor2D } | null;
    tf.dispose([...variables, ...(last === null ? [] : [last.x, last.labels])]);
  }
  const notes = [
    ...(replay === 'base' ? [] : (replay.notes ?? [])),
    ...(lossNotCompared === undefined ? [] : [`losses not compared: ${lossNotCompared}`]),
  ];
  const ties = replay === 'base' ? [] : (replay.notes ?? []);
  const tieDetail = ties.length > 0 ? `${ties.join('; ')}; compared every step` : null;
  const pass =
    maxRelativeError <= GOLDEN_TOLERANCE &&
    lossRelativeError <= GOLDEN_TOLERANCE &&
    mismatches.length === 0;
  const detail =
    mismatches.length > 0
      ? mismatches.join('; ')
      : notes.length > 0
        ? [
            tieDetail,
            lossNotCompared === undefined ? null : `losses not compared: ${lossNotCompared}`,
          ]
            .filter(Boolean)
            .join('; ')
        : null;
  return {
    name: goldenCase.name,
    status: pass ? (tieDetail === null ? 'PASS' : 'TIE') : 'FAIL',
    maxRelativeError,
    lossRelativeError: lossNotCompared === undefined ? lossRelativeError : NaN,
    ...(detail === null ? {} : { detail }),
  };
}

/**
 * One step as the trainer takes it: `minimize` on the mean loss, `stepWithDataSelection` on the
 * per-example losses for a method that selects examples, `stepWithPrevious` with the previous
 * batch for one that needs it. Returns the loss the method reports.
 */
function replayStep(
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  current: { x: tf.Tensor2D; labels: tf.Tensor2D },
  previous: { x: tf.Tensor2D; labels: tf.Tensor2D } | null,
  axis: number | null,
): tf.Scalar | null {
  const meanLoss = (batch: { x: tf.Tensor2D; labels: tf.Tensor2D }) => () =>
    tf.losses.softmaxCrossEntropy(
      batch.labels,
      goldenLogits(variables, batch.x, axis),
      undefined,
      0,
    ) as tf.Scalar;
  const capabilities = capabilitiesOf(optimizer);
  if (capabilities?.dataSelection === true) {
    const perExample = (indices: tf.Tensor1D | null) =>
      tf.tidy(() => {
        const xs = indices === null ? current.x : tf.gather(current.x, indices);
        const ys = indices === null ? current.labels : tf.gather(current.labels, indices);
        return tf.losses.softmaxCrossEntropy(
          ys,
          goldenLogits(variables, xs, axis),
          undefined,
          0,
          tf.Reduction.NONE,
        ) as tf.Tensor1D;
      });
    return (optimizer as tf.Optimizer & DataSelecting).stepWithDataSelection(perExample, variables);
  }
  if (capabilities?.previousBatch === true) {
    return (optimizer as tf.Optimizer & PreviousBatchStepping).stepWithPrevious(
      meanLoss(current),
      previous === null ? null : meanLoss(previous),
      variables,
    );
  }
  return optimizer.minimize(meanLoss(current), true, variables);
}
