/** `results.json` of a comparison or sweep, and the report rendered from it and the run logs. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpochRecord } from 'tfjs-sam/trainer';
import {
  accuracyVsRho,
  generalizationGap,
  tunerTrials,
  learningCurves,
  perplexityCurves,
  stepTimes,
  type CurvePoint,
} from './report/charts.js';
import { reportHtml, type ReportTable } from './report/html.js';
import { renderChart, type RenderedChart } from './report/render.js';
import { folderName, readLog, type RunSummary } from './run.js';

const METRICS = [
  'trainLoss',
  'trainAccuracy',
  'validationLoss',
  'validationAccuracy',
  'testLoss',
  'testAccuracy',
  'trainPerplexity',
  'validationPerplexity',
  'testPerplexity',
] as const;
type Metric = (typeof METRICS)[number];

export interface OptimizerResult {
  label: string;
  passesPerStep: number;
  epochs: number;
  /** Sweep grid point or tuner candidate, when the results come from `sweep` or `tune`. */
  rho?: number;
  learningRate?: number;
  /** `tune`: the epochs the candidate trained before the tuner stopped it (its last round). */
  stoppedAt?: number;
  runs: RunSummary[];
  mean: Partial<Record<Metric, number>>;
  std: Partial<Record<Metric, number>>;
  msPerStep: number;
  /** Sharpness of the first seed's final model on a fixed training sample (`compare --sharpness`). */
  sharpness?: FinalSharpness;
}

export interface FinalSharpness {
  seed: number;
  samples: number;
  lambdaMax: number;
  lambdaMaxConverged: boolean;
  rho: number;
  worstCaseSharpness: number;
  seconds: number;
}

/** What `tune` did: its rounds, every trial, the compute spent against the grid's. */
export interface TuneSummary {
  metric: 'validationAccuracy' | 'validationPerplexity';
  eta: number;
  /** Budget, cost and the grid's cost (every candidate trained all epochs), in base steps. */
  budget: number;
  cost: number;
  gridCost: number;
  /** The epochs each round trains its candidates to. */
  rounds: number[];
  stepsPerEpoch: number;
  passesPerStep: number;
  trials: Array<{
    rho: number;
    learningRate: number;
    round: number;
    epochs: number;
    metric: number;
    kept: boolean;
  }>;
  best: { rho: number; learningRate: number; metric: number };
}

export interface ResultsFile {
  kind: 'compare' | 'sweep' | 'tune';
  command: string;
  date: string;
  machine: string;
  backend: string;
  data: string;
  /** --data-seed: the seed of the training subset, validation split and label noise. */
  dataSeed?: number;
  model: string;
  budget?: string;
  settings: Record<string, unknown>;
  optimizers: OptimizerResult[];
  best?: {
    label: string;
    rho: number;
    learningRate: number;
    validationAccuracy: number;
    /** Language models: the sweep ranks by this, lower first. */
    validationPerplexity?: number;
  };
  tune?: TuneSummary;
}

export function aggregate(
  label: string,
  passesPerStep: number,
  epochs: number,
  runs: RunSummary[],
): OptimizerResult {
  const mean: Partial<Record<Metric, number>> = {};
  const std: Partial<Record<Metric, number>> = {};
  for (const metric of METRICS) {
    const values = runs
      .map((r) => r.final?.[metric])
      .filter((v): v is number => typeof v === 'number');
    if (values.length === 0) continue;
    const m = values.reduce((s, v) => s + v, 0) / values.length;
    mean[metric] = m;
    std[metric] =
      values.length > 1
        ? Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1))
        : 0;
  }
  const msPerStep = runs.reduce((s, r) => s + r.msPerStep, 0) / Math.max(1, runs.length);
  return { label, passesPerStep, epochs, runs, mean, std, msPerStep };
}

const percent = (v: number | undefined) => (v === undefined ? '-' : `${(v * 100).toFixed(2)}%`);
const meanStd = (r: OptimizerResult, metric: Metric, asPercent = true) =>
  r.mean[metric] === undefined
    ? '-'
    : asPercent
      ? `${percent(r.mean[metric])} ± ${((r.std[metric] ?? 0) * 100).toFixed(2)}`
      : `${(r.mean[metric] as number).toFixed(metric.endsWith('Perplexity') ? 2 : 4)} ± ${(r.std[metric] ?? 0).toFixed(metric.endsWith('Perplexity') ? 2 : 4)}`;

/**
 * The epochs of an optimizer's runs: the planned number when every run completed, else what each
 * run did of it (a run stopped by Ctrl-C, or by an error, is cut short).
 */
export function epochsRun(result: OptimizerResult): string | number {
  if (result.runs.every((run) => run.completed)) return result.epochs;
  if (result.stoppedAt !== undefined) {
    return `${result.stoppedAt} of ${result.epochs} (stopped by the tuner)`;
  }
  const done = result.runs.map((run) => run.epochs);
  return `${done.join(', ')} of ${result.epochs} (interrupted)`;
}

export function summaryTable(results: ResultsFile): ReportTable {
  const withSharpness = results.optimizers.some((r) => r.sharpness !== undefined);
  // Language models: perplexity in place of the error rate (accuracy is next-token accuracy).
  const withPerplexity = results.optimizers.some((r) => r.mean.testPerplexity !== undefined);
  return {
    title:
      results.kind === 'sweep'
        ? 'Sweep (mean ± std over seeds)'
        : results.kind === 'tune'
          ? 'Tuner candidates, at the last round each reached'
          : 'Results (mean ± std over seeds)',
    columns: [
      'optimizer',
      'epochs',
      'passes/step',
      'train acc',
      'val acc',
      'test acc',
      ...(withPerplexity ? ['val perplexity', 'test perplexity'] : ['test error']),
      'test loss',
      'ms/step',
      'seeds',
      ...(withSharpness ? ['λ_max', 'worst-case sharpness'] : []),
    ],
    rows: results.optimizers.map((r) => [
      r.label,
      epochsRun(r),
      r.passesPerStep.toFixed(2),
      meanStd(r, 'trainAccuracy'),
      meanStd(r, 'validationAccuracy'),
      meanStd(r, 'testAccuracy'),
      ...(withPerplexity
        ? [meanStd(r, 'validationPerplexity', false), meanStd(r, 'testPerplexity', false)]
        : [
            r.mean.testAccuracy === undefined
              ? '-'
              : `${((1 - r.mean.testAccuracy) * 100).toFixed(2)}%`,
          ]),
      meanStd(r, 'testLoss', false),
      r.msPerStep.toFixed(1),
      r.runs.length,
      ...(withSharpness
        ? [
            r.sharpness ? r.sharpness.lambdaMax.toPrecision(4) : '-',
            r.sharpness ? r.sharpness.worstCaseSharpness.toPrecision(4) : '-',
          ]
        : []),
    ]),
  };
}

export function printSummary(results: ResultsFile): void {
  const table = summaryTable(results);
  const widths = table.columns.map((c, i) =>
    Math.max(c.length, ...table.rows.map((r) => String(r[i]).length)),
  );
  const line = (cells: Array<string | number>) =>
    cells.map((c, i) => String(c).padEnd(widths[i] as number)).join('  ');
  console.log(`\n${line(table.columns)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const row of table.rows) console.log(line(row));
  if (results.tune) {
    console.log(`\n${tuneLine(results.tune)}`);
  } else if (results.best) {
    console.log(
      `\nbest: ${results.best.label} (rho ${results.best.rho}, lr ${results.best.learningRate}) with validation accuracy ${percent(results.best.validationAccuracy)}`,
    );
  }
}

/** The tuner's choice and what it cost, against the grid of `sweep`. */
export function tuneLine(tune: TuneSummary): string {
  const value =
    tune.metric === 'validationPerplexity'
      ? `validation perplexity ${tune.best.metric.toFixed(2)}`
      : `validation accuracy ${percent(tune.best.metric)}`;
  const share = ((100 * tune.cost) / tune.gridCost).toFixed(0);
  return (
    `chosen: rho ${tune.best.rho}, lr ${tune.best.learningRate} (${value}) · rounds at ${tune.rounds.join(', ')} epochs, η ${tune.eta} · ` +
    `compute ${tune.cost} base steps = ${share}% of the grid's ${tune.gridCost} (budget ${tune.budget})`
  );
}

/** One row per trial of the tuner. */
export function tuneTable(tune: TuneSummary): ReportTable {
  const show = (v: number) => (tune.metric === 'validationPerplexity' ? v.toFixed(2) : percent(v));
  return {
    title: `Tuner trials (successive halving, η ${tune.eta}): ${tuneLine(tune)}`,
    columns: ['round', 'epochs', 'rho', 'learning rate', tune.metric, 'kept'],
    rows: tune.trials.map((t) => [
      t.round + 1,
      t.epochs,
      t.rho,
      t.learningRate,
      show(t.metric),
      t.kept ? 'yes' : '',
    ]),
  };
}

export function writeResults(out: string, results: ResultsFile): void {
  writeFileSync(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
}

export function readResults(out: string): ResultsFile {
  const path = join(out, 'results.json');
  if (!existsSync(path))
    throw new Error(
      `no results.json in '${out}': run 'tfjs-sam compare' or 'tfjs-sam sweep' with --out ${out} first.`,
    );
  return JSON.parse(readFileSync(path, 'utf8')) as ResultsFile;
}

/** Renders `report.html` and `plots/*.svg|png` in `out` from results.json and the run logs. */
export async function renderReport(out: string, results: ResultsFile): Promise<string> {
  const points: CurvePoint[] = results.optimizers.flatMap((o) =>
    o.runs.flatMap((run) =>
      readLog(join(out, 'runs', folderName(o.label, run.seed))).map((r: EpochRecord) => ({
        optimizer: o.label,
        seed: run.seed,
        epoch: r.epoch,
        trainLoss: r.trainLoss,
        trainAccuracy: r.trainAccuracy,
        validationAccuracy: r.validationAccuracy,
        testAccuracy: r.testAccuracy,
        trainPerplexity: r.trainPerplexity ?? null,
        validationPerplexity: r.validationPerplexity ?? null,
        testPerplexity: r.testPerplexity ?? null,
      })),
    ),
  );
  const plots = join(out, 'plots');
  const charts: RenderedChart[] = [];
  const hasTest = points.some((p) => p.testAccuracy !== null);
  const hasValidation = points.some((p) => p.validationAccuracy !== null);
  const hasPerplexity = points.some(
    (p) => p.testPerplexity !== null || p.validationPerplexity !== null,
  );
  if (points.length > 0 && hasPerplexity) {
    charts.push(
      await renderChart(
        'perplexity',
        'Perplexity per epoch: train (dashed), validation and test',
        perplexityCurves(points),
        plots,
      ),
    );
  }
  if (points.length > 0) {
    if (hasTest)
      charts.push(
        await renderChart(
          'test-accuracy',
          'Train (dashed) and test accuracy per epoch',
          learningCurves(points, 'testAccuracy'),
          plots,
        ),
      );
    if (hasValidation)
      charts.push(
        await renderChart(
          'validation-accuracy',
          'Train and validation accuracy per epoch',
          learningCurves(points, 'validationAccuracy'),
          plots,
        ),
      );
    if (hasTest)
      charts.push(
        await renderChart(
          'generalization-gap',
          'Generalization gap (train − test accuracy)',
          generalizationGap(points),
          plots,
        ),
      );
  }
  charts.push(
    await renderChart(
      'step-time',
      'Time per optimizer step',
      stepTimes(results.optimizers.map((o) => ({ optimizer: o.label, msPerStep: o.msPerStep }))),
      plots,
    ),
  );
  if (results.tune) {
    charts.push(
      await renderChart(
        'tuner-trials',
        `${results.tune.metric === 'validationPerplexity' ? 'Validation perplexity' : 'Validation accuracy'} against ρ after each round of the tuner`,
        tunerTrials(results.tune.trials, results.tune.metric),
        plots,
      ),
    );
  }
  if (results.kind === 'sweep') {
    const rows = results.optimizers
      .filter((o) => o.rho !== undefined && o.mean.validationAccuracy !== undefined)
      .map((o) => ({
        rho: o.rho as number,
        learningRate: o.learningRate as number,
        validationAccuracy: o.mean.validationAccuracy as number,
      }));
    if (rows.length > 0)
      charts.push(
        await renderChart(
          'accuracy-vs-rho',
          'Validation accuracy against ρ',
          accuracyVsRho(rows),
          plots,
        ),
      );
  }
  const html = reportHtml({
    title: `tfjs-sam ${results.kind === 'compare' ? 'comparison' : results.kind}`,
    subtitle: `${results.data} · model ${results.model} · ${results.backend} backend`,
    facts: [
      ['command', results.command],
      ['date', results.date],
      ['machine', results.machine],
      ...(results.budget ? ([['budget', results.budget]] as Array<[string, string]>) : []),
      ['settings', JSON.stringify(results.settings)],
    ],
    tables: [...(results.tune ? [tuneTable(results.tune)] : []), summaryTable(results)],
    charts,
  });
  const path = join(out, 'report.html');
  writeFileSync(path, html);
  return path;
}
