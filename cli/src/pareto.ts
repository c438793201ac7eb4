/**
 * Quality per unit of compute: the optimizers of several compare folders on one footing — clean
 * test accuracy (mean ± std over seeds) against the passes they ran (base-step units) and against
 * wall-clock — and the Pareto front of each: the optimizers no other beats on both.
 */
import type { OptimizerResult, ResultsFile } from './results.js';

export interface ParetoPoint {
  label: string;
  /** The folder its runs were read from. */
  source: string;
  seeds: number;
  testAccuracy: number;
  testAccuracyStd: number;
  passesPerStep: number;
  steps: number;
  /** passesPerStep × steps: the gradient evaluations of a run, in base steps. */
  passes: number;
  msPerStep: number;
  /** Where msPerStep comes from: the runs' own log, or the --timing folder. */
  timing: 'runs' | 'timing';
  /** msPerStep × steps / 60 000. */
  minutes: number;
  /** Not beaten on accuracy by a point that costs no more (passes / wall-clock). */
  frontByPasses: boolean;
  frontByTime: boolean;
}

const mean = (values: readonly number[]) => values.reduce((s, v) => s + v, 0) / values.length;
const std = (values: readonly number[]) => {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
};

/** Whether `point` is on the front of `points` for `cost`: nothing cheaper-or-equal is better. */
function onFront<P extends { testAccuracy: number }>(
  point: P,
  points: readonly P[],
  cost: (p: P) => number,
): boolean {
  return !points.some(
    (other) =>
      other !== point &&
      cost(other) <= cost(point) &&
      other.testAccuracy >= point.testAccuracy &&
      (cost(other) < cost(point) || other.testAccuracy > point.testAccuracy),
  );
}

/**
 * The points of every optimizer in `folders` (each a results.json with its folder name). An
 * optimizer's ms/step is taken from `timing` when it has a row of the same label (a short run of
 * every optimizer on an otherwise idle machine), else from its runs.
 */
export function paretoPoints(
  folders: ReadonlyArray<{ dir: string; results: ResultsFile }>,
  timing?: ResultsFile,
): ParetoPoint[] {
  const seen = new Map<string, string>();
  const points = folders.flatMap(({ dir, results }) =>
    results.optimizers.map((optimizer: OptimizerResult) => {
      const before = seen.get(optimizer.label);
      if (before !== undefined) {
        throw new Error(
          `optimizer '${optimizer.label}' is in both ${before} and ${dir}; give each optimizer's folder once.`,
        );
      }
      seen.set(optimizer.label, dir);
      const accuracies = optimizer.runs
        .map((run) => run.final?.testAccuracy)
        .filter((v): v is number => typeof v === 'number');
      if (accuracies.length === 0) {
        throw new Error(
          `optimizer '${optimizer.label}' in ${dir} has no test accuracy: its runs need test data (and at least one finished epoch).`,
        );
      }
      const steps = mean(optimizer.runs.map((run) => run.steps));
      const timed = timing?.optimizers.find((o) => o.label === optimizer.label);
      const msPerStep = timed?.msPerStep ?? optimizer.msPerStep;
      return {
        label: optimizer.label,
        source: dir,
        seeds: accuracies.length,
        testAccuracy: mean(accuracies),
        testAccuracyStd: std(accuracies),
        passesPerStep: optimizer.passesPerStep,
        steps,
        passes: optimizer.passesPerStep * steps,
        msPerStep,
        timing: timed === undefined ? ('runs' as const) : ('timing' as const),
        minutes: (msPerStep * steps) / 60_000,
        frontByPasses: false,
        frontByTime: false,
      };
    }),
  );
  for (const point of points) {
    point.frontByPasses = onFront(point, points, (p) => p.passes);
    point.frontByTime = onFront(point, points, (p) => p.minutes);
  }
  return points.sort((a, b) => a.passes - b.passes || a.minutes - b.minutes);
}
