/**
 * Tuning ρ (and optionally the learning rate) by successive halving (Jamieson & Talwalkar 2016;
 * the inner loop of Hyperband, Li et al. 2018): every candidate trains r₀ steps, the best 1/η go on
 * to η·r₀ steps, and so on until the last comparison picks one. Runs continue from their
 * checkpoints, so a candidate's steps are paid once. The compute budget is in base-step units: a
 * step of a method costs its passes per step (SAM: 2).
 */
import type { Optimizer } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { disposeOptimizer } from '../optimizers/registry.js';
import { checkNumber } from '../util/validate.js';
import { train, type TrainerOptions } from './trainer.js';
import { evaluate } from './evaluate.js';

export interface TuneCandidate {
  rho: number;
  /** The learning rate, when it is tuned too. */
  learningRate?: number;
}

export interface TuneTrial {
  candidate: TuneCandidate;
  /** 0 for the first round. */
  rung: number;
  /** Steps the candidate has trained so far. */
  steps: number;
  /** The validation metric after those steps. */
  metric: number;
  /** Whether it goes on to the next round (or is the choice, after the last). */
  kept: boolean;
}

export interface TuneResult {
  best: TuneCandidate;
  bestMetric: number;
  trials: TuneTrial[];
  /** Steps per round. */
  rungs: number[];
  /** Compute spent, in base-step units. */
  cost: number;
  /** The compute of the grid: every candidate trained the full steps. */
  gridCost: number;
}

export interface HalvingOptions {
  candidates: readonly TuneCandidate[];
  /** Steps of a full run: no round trains longer. */
  maxSteps: number;
  /** What a step is called in messages (default 'steps'; the CLI's rounds are 'epochs'). */
  unit?: string;
  /**
   * Compute budget in base-step units. Default: what the schedule costs when its last round trains
   * the finalists the full `maxSteps`.
   */
  budget?: number;
  /** The halving factor (default 3): a round keeps the best ⌈n/η⌉. */
  eta?: number;
  /** Passes per step of the method tuned (its cost per step in base steps; SAM: 2). */
  passes: number;
  /** Trains `candidate` on to `steps` steps (continuing where it stopped); returns its metric. */
  trainTo: (candidate: TuneCandidate, steps: number) => Promise<number>;
  /** Whether a larger metric is better (accuracy) or a smaller (perplexity). Default true. */
  higherIsBetter?: boolean;
  onTrial?: (trial: TuneTrial) => void;
}

/** How many candidates each round trains: n, ⌈n/η⌉, … while more than one is left to compare. */
function roundSizes(count: number, eta: number): number[] {
  const sizes: number[] = [];
  for (let left = count; left > 1; left = Math.ceil(left / eta)) sizes.push(left);
  return sizes;
}

/** The steps of each round when the last compares at `last` steps: …, last/η², last/η, last. */
function rungsEndingAt(last: number, rounds: number, eta: number): number[] {
  return Array.from({ length: rounds }, (_, r) =>
    Math.max(1, Math.round(last / eta ** (rounds - 1 - r))),
  );
}

/** The compute of a schedule: each round's candidates pay their new steps. */
function scheduleCost(rungs: readonly number[], sizes: readonly number[], passes: number): number {
  return rungs.reduce(
    (cost, steps, r) =>
      cost + passes * (sizes[r] as number) * (steps - (r === 0 ? 0 : (rungs[r - 1] as number))),
    0,
  );
}

/**
 * Successive halving within `budget`: the rounds compare at …, L/η², L/η, L steps, with the
 * longest L ≤ maxSteps whose compute fits the budget.
 */
export async function successiveHalving(options: HalvingOptions): Promise<TuneResult> {
  const eta = checkNumber('tune', 'eta', options.eta ?? 3, { min: 2 });
  const maxSteps = checkNumber('tune', 'maxSteps', options.maxSteps, { min: 1, integer: true });
  const budget =
    options.budget === undefined
      ? Infinity
      : checkNumber('tune', 'budget', options.budget, { min: 0, minInclusive: false });
  const passes = checkNumber('tune', 'passes', options.passes, { min: 0, minInclusive: false });
  const candidates = options.candidates;
  if (candidates.length < 2) {
    throw new Error(
      `tune: ${candidates.length} candidate(s); give at least two values of rho (or of the learning rate) to choose from.`,
    );
  }
  const sizes = roundSizes(candidates.length, eta);
  const gridCost = passes * candidates.length * maxSteps;
  const shortest = Math.min(maxSteps, Math.ceil(eta ** (sizes.length - 1)));
  let last = 0;
  for (let steps = maxSteps; steps >= shortest; steps--) {
    if (scheduleCost(rungsEndingAt(steps, sizes.length, eta), sizes, passes) <= budget) {
      last = steps;
      break;
    }
  }
  if (last === 0) {
    const least = scheduleCost(rungsEndingAt(shortest, sizes.length, eta), sizes, passes);
    throw new Error(
      `tune: a budget of ${budget} base steps is too small for ${candidates.length} candidates over ${maxSteps} ${options.unit ?? 'steps'}; successive halving needs at least ${Math.ceil(least)} (the grid: ${gridCost}). Raise --budget or give fewer candidates.`,
    );
  }
  const rungs = rungsEndingAt(last, sizes.length, eta);
  const better = (a: number, b: number) => ((options.higherIsBetter ?? true) ? a > b : a < b);
  const trials: TuneTrial[] = [];
  let alive = candidates.map((candidate, index) => ({ candidate, index, metric: NaN }));
  let cost = 0;
  for (const [rung, steps] of rungs.entries()) {
    const before = rung === 0 ? 0 : (rungs[rung - 1] as number);
    for (const entry of alive) {
      entry.metric = await options.trainTo(entry.candidate, steps);
      cost += passes * (steps - before);
    }
    // A candidate whose metric is not a number (diverged) ranks last.
    const ranked = [...alive].sort((a, b) =>
      Number.isNaN(a.metric)
        ? 1
        : Number.isNaN(b.metric)
          ? -1
          : better(a.metric, b.metric)
            ? -1
            : 1,
    );
    const keep = rung === rungs.length - 1 ? 1 : (sizes[rung + 1] as number);
    const kept = new Set(ranked.slice(0, keep).map((e) => e.index));
    for (const entry of alive) {
      const trial = {
        candidate: entry.candidate,
        rung,
        steps,
        metric: entry.metric,
        kept: kept.has(entry.index),
      };
      trials.push(trial);
      options.onTrial?.(trial);
    }
    alive = ranked.slice(0, keep);
  }
  const winner = alive[0] as { candidate: TuneCandidate; metric: number };
  return { best: winner.candidate, bestMetric: winner.metric, trials, rungs, cost, gridCost };
}

/**
 * `trainTo` for the trainer: each candidate trains with its own options and checkpoint folder and
 * stops after the round's steps; the metric is read on the validation data at that point.
 */
export function trainerRounds(
  optionsFor: (candidate: TuneCandidate) => TrainerOptions,
  metric: (model: tfl.LayersModel, options: TrainerOptions) => number,
): (candidate: TuneCandidate, steps: number) => Promise<number> {
  const started = new Set<string>();
  return async (candidate, steps) => {
    const options = optionsFor(candidate);
    const dir = options.checkpointDir;
    if (!dir) {
      throw new Error(
        'tune: each candidate needs a checkpointDir, to continue it in the next round.',
      );
    }
    let step = 0;
    const result = await train({
      ...options,
      resume: started.has(dir),
      onBatch: (progress) => {
        step = progress.step;
        options.onBatch?.(progress);
      },
      shouldStop: () => step >= steps || (options.shouldStop?.() ?? false),
    });
    started.add(dir);
    try {
      return metric(result.model, options);
    } finally {
      disposeOptimizer(result.model.optimizer as Optimizer);
      result.model.dispose();
    }
  };
}

/** Validation accuracy (or loss) of a model, for `trainerRounds`. */
export function validationAccuracy(model: tfl.LayersModel, options: TrainerOptions): number {
  const result = evaluate(model, options.data.validation, options.evaluationBatchSize);
  if (result === null) {
    throw new Error('tune: the candidates need validation data (--validation > 0) to be compared.');
  }
  return result.accuracy;
}
