/** Vega-Lite specifications of the report's plots, from plain result records. */
import type { TopLevelSpec } from 'vega-lite';

export interface CurvePoint {
  optimizer: string;
  seed: number;
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  validationAccuracy: number | null;
  testAccuracy: number | null;
  /** Language models only (null or absent for classifiers). */
  trainPerplexity?: number | null;
  validationPerplexity?: number | null;
  testPerplexity?: number | null;
}

const WIDTH = 420;
const HEIGHT = 260;

/** Accuracy per epoch and optimizer (mean over seeds, band = min..max), train dashed. */
export function learningCurves(
  points: readonly CurvePoint[],
  metric: 'testAccuracy' | 'validationAccuracy',
): TopLevelSpec {
  const long = points.flatMap((p) => [
    {
      optimizer: p.optimizer,
      seed: p.seed,
      epoch: p.epoch,
      split: 'train',
      accuracy: p.trainAccuracy,
    },
    ...(p[metric] === null
      ? []
      : [
          {
            optimizer: p.optimizer,
            seed: p.seed,
            epoch: p.epoch,
            split: metric === 'testAccuracy' ? 'test' : 'validation',
            accuracy: p[metric],
          },
        ]),
  ]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values: long },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      color: { field: 'optimizer', type: 'nominal' },
    },
    layer: [
      {
        mark: { type: 'errorband', extent: 'ci', opacity: 0.15 },
        encoding: {
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { zero: false } },
          detail: { field: 'split' },
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          y: { aggregate: 'mean', field: 'accuracy', type: 'quantitative' },
          strokeDash: { field: 'split', type: 'nominal', title: 'split' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Train accuracy minus test accuracy per epoch: the generalization gap. */
export function generalizationGap(points: readonly CurvePoint[]): TopLevelSpec {
  const values = points
    .filter((p) => p.testAccuracy !== null)
    .map((p) => ({
      optimizer: p.optimizer,
      seed: p.seed,
      epoch: p.epoch,
      gap: p.trainAccuracy - (p.testAccuracy as number),
    }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' },
      y: { aggregate: 'mean', field: 'gap', type: 'quantitative', title: 'train − test accuracy' },
      color: { field: 'optimizer', type: 'nominal' },
    },
  } as TopLevelSpec;
}

/** Milliseconds per optimizer step, one bar per optimizer. */
export function stepTimes(
  rows: ReadonlyArray<{ optimizer: string; msPerStep: number }>,
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: Math.max(60, 28 * rows.length),
    data: { values: rows },
    mark: 'bar',
    encoding: {
      y: { field: 'optimizer', type: 'nominal', sort: null, title: null },
      x: { field: 'msPerStep', type: 'quantitative', title: 'ms per step' },
      color: { field: 'optimizer', type: 'nominal', legend: null },
    },
  } as TopLevelSpec;
}

/** Validation accuracy against ρ (log scale), one line per learning rate. */
export function accuracyVsRho(
  rows: ReadonlyArray<{ rho: number; learningRate: number; validationAccuracy: number }>,
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows.map((r) => ({ ...r, lr: String(r.learningRate) })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'rho',
        type: 'quantitative',
        scale: { type: 'symlog', constant: 0.01 },
        title: 'ρ',
      },
      y: {
        aggregate: 'mean',
        field: 'validationAccuracy',
        type: 'quantitative',
        title: 'validation accuracy',
        scale: { zero: false },
      },
      color: { field: 'lr', type: 'nominal', title: 'learning rate' },
    },
  } as TopLevelSpec;
}

/** Perplexity per epoch and optimizer (mean over seeds, band = CI), train dashed, log scale. */
export function perplexityCurves(points: readonly CurvePoint[]): TopLevelSpec {
  const splits = [
    ['train', 'trainPerplexity'],
    ['validation', 'validationPerplexity'],
    ['test', 'testPerplexity'],
  ] as const;
  const long = points.flatMap((p) =>
    splits.flatMap(([split, key]) => {
      const value = p[key];
      return value == null
        ? []
        : [{ optimizer: p.optimizer, seed: p.seed, epoch: p.epoch, split, perplexity: value }];
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values: long },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
      color: { field: 'optimizer', type: 'nominal' },
    },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          y: {
            aggregate: 'mean',
            field: 'perplexity',
            type: 'quantitative',
            title: 'perplexity (mean over seeds)',
            scale: { type: 'log' },
          },
          strokeDash: { field: 'split', type: 'nominal', title: 'split' },
          detail: { field: 'split' },
        },
      },
    ],
  };
}

/**
 * The tuner's trials: the validation metric against ρ (log scale), one line per round (the epochs
 * it trained to), filled points for the candidates kept for the next round.
 */
export function tunerTrials(
  rows: ReadonlyArray<{
    rho: number;
    learningRate: number;
    epochs: number;
    metric: number;
    kept: boolean;
  }>,
  metric: string,
): TopLevelSpec {
  const lrs = new Set(rows.map((r) => r.learningRate)).size;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    data: {
      values: rows.map((r) => ({
        ...r,
        round: `${r.epochs} epoch${r.epochs === 1 ? '' : 's'}`,
        lr: String(r.learningRate),
        status: r.kept ? 'kept' : 'stopped',
      })),
    },
    mark: { type: 'line', point: { size: 60 } },
    encoding: {
      x: {
        field: 'rho',
        type: 'quantitative',
        scale: rows.every((r) => r.rho > 0) ? { type: 'log' } : { type: 'symlog', constant: 0.01 },
        title: 'ρ',
      },
      y: {
        field: 'metric',
        type: 'quantitative',
        title: metric === 'validationPerplexity' ? 'validation perplexity' : 'validation accuracy',
        scale: { zero: false },
      },
      color: { field: 'round', type: 'ordinal', sort: null, title: 'trained to' },
      ...(lrs > 1 ? { strokeDash: { field: 'lr', type: 'nominal', title: 'learning rate' } } : {}),
      shape: { field: 'status', type: 'nominal', title: null },
      detail: { field: 'lr', type: 'nominal' },
    },
  } as TopLevelSpec;
}

/**
 * Clean test accuracy (mean, with ± std bars) against a cost — passes or minutes — one point per
 * optimizer, labelled; the Pareto front drawn as a step line through the points on it.
 */
export function paretoChart(
  rows: ReadonlyArray<{
    label: string;
    cost: number;
    testAccuracy: number;
    testAccuracyStd: number;
    front: boolean;
  }>,
  costTitle: string,
): TopLevelSpec {
  const values = rows.map((r) => ({
    ...r,
    low: r.testAccuracy - r.testAccuracyStd,
    high: r.testAccuracy + r.testAccuracyStd,
    status: r.front ? 'on the Pareto front' : 'beaten by a cheaper one',
  }));
  const x = {
    field: 'cost',
    type: 'quantitative',
    title: costTitle,
    scale: { zero: false, padding: 24 },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    layer: [
      {
        transform: [{ filter: 'datum.front' }],
        mark: { type: 'line', interpolate: 'step-after', color: '#888', strokeDash: [4, 3] },
        encoding: { x, y: { field: 'testAccuracy', type: 'quantitative' } },
      },
      {
        mark: { type: 'rule' },
        encoding: {
          x,
          y: { field: 'low', type: 'quantitative' },
          y2: { field: 'high' },
          color: {
            field: 'status',
            type: 'nominal',
            title: null,
            legend: { orient: 'bottom', labelLimit: 400 },
          },
        },
      },
      {
        mark: { type: 'point', filled: true, size: 70 },
        encoding: {
          x,
          y: {
            field: 'testAccuracy',
            type: 'quantitative',
            title: 'clean test accuracy (mean ± std over seeds)',
            scale: { zero: false },
            axis: { format: '.0%' },
          },
          color: {
            field: 'status',
            type: 'nominal',
            title: null,
            legend: { orient: 'bottom', labelLimit: 400 },
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 7, dy: -7, fontSize: 11 },
        encoding: {
          x,
          y: { field: 'testAccuracy', type: 'quantitative' },
          text: { field: 'label', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}
