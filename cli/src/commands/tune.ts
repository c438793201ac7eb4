/**
 * `tfjs-sam tune`: ρ (and optionally the learning rate) chosen by successive halving on a
 * validation split, within a compute budget in base steps; the sweep's grid at a fraction of its
 * cost. A round is a whole number of epochs, so every candidate keeps the learning-rate schedule of
 * the full run and continues from its checkpoint in the next round.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { examplesTask } from 'tfjs-sam/data';
import { parseOptimizerSpec } from 'tfjs-sam/toolkit';
import { successiveHalving, type TuneCandidate } from 'tfjs-sam/trainer';
import {
  addCommonOptions,
  applyDataDefaults,
  hyperparameters,
  numberIn,
  numberList,
  type CommonFlags,
} from '../flags.js';
import {
  baseResults,
  finish,
  passes,
  runSpecFor,
  stepsPerEpoch,
  trainRun,
  type PlannedOptimizer,
} from '../matrix.js';
import { aggregate, type OptimizerResult, type TuneSummary } from '../results.js';
import type { RunSummary } from '../run.js';
import { outDir, setup } from '../session.js';
import { wasInterrupted } from '../signals.js';

interface TuneFlags extends CommonFlags {
  optimizer: string;
  rhos: number[];
  lrs?: number[];
  budget?: Budget;
  eta: number;
  seed: number;
}

/** Base steps, or a share of the grid's compute. */
type Budget = { steps: number } | { share: number };

function budget(text: string): Budget {
  const share = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (share) {
    const percent = Number(share[1]);
    if (percent > 0 && percent <= 100) return { share: percent / 100 };
  } else {
    const steps = Number(text);
    if (Number.isFinite(steps) && steps > 0) return { steps };
  }
  throw new InvalidArgumentError(
    `--budget is '${text}'; give base steps (a number > 0: a plain step costs 1, a SAM step 2) or a share of the grid's compute, e.g. 40%.`,
  );
}

export function addTuneCommand(program: Command): void {
  addCommonOptions(program.command('tune'))
    .description(
      'choose rho (and optionally the learning rate) by successive halving on a validation split, within a compute budget',
    )
    .option('--optimizer <spec>', 'the method to tune', 'sam')
    .option(
      '--rhos <list>',
      'rho candidates',
      numberList('--rhos', 0),
      [0.01, 0.02, 0.05, 0.1, 0.2, 0.5],
    )
    .option('--lrs <list>', 'learning-rate candidates (default: --lr)', numberList('--lrs', 0))
    .option(
      '--budget <steps|percent>',
      "compute budget in base steps, or a share of the grid's (e.g. 40%); default: what comparing the finalists over all --epochs costs",
      budget,
    )
    .option(
      '--eta <n>',
      'halving factor: each round keeps the best 1/eta (2: more, shorter-spaced rounds for the same compute, so that a regularizer whose gain shows late is not culled early)',
      numberIn('--eta', 2, Infinity),
      2,
    )
    .option('--seed <n>', 'seed of every candidate', numberIn('--seed', 0, Infinity, true), 1)
    .action(async (flags: TuneFlags) => {
      applyDataDefaults(flags);
      if (flags.validation <= 0) flags.validation = 0.1;
      const spec = parseOptimizerSpec(flags.optimizer);
      const out = outDir(flags, 'tune');
      const candidates: TuneCandidate[] = (flags.lrs ?? [flags.lr]).flatMap((learningRate) =>
        flags.rhos.map((rho) => ({ rho, learningRate })),
      );
      const plannedFor = (candidate: TuneCandidate): PlannedOptimizer => {
        const lr = candidate.learningRate ?? flags.lr;
        return {
          spec: {
            ...spec,
            label: `${spec.label} rho=${candidate.rho} lr=${lr}`,
            options: { ...spec.options, rho: candidate.rho },
          },
          common: { ...hyperparameters(flags), learningRate: lr },
          epochs: flags.epochs,
          extra: { rho: candidate.rho, learningRate: lr },
        };
      };
      const plans = candidates.map(plannedFor);
      const { backend, data } = await setup(
        flags,
        plans.map((p) => p.spec),
      );
      const languageModel = examplesTask(data.train) === 'next-token';
      const perEpoch = stepsPerEpoch(data, flags);
      const passesPerStep = passes(spec, data, flags);
      // One unit of the halving is an epoch: its cost is the epoch's steps times the passes.
      const epochCost = perEpoch * passesPerStep;
      const gridCost = epochCost * candidates.length * flags.epochs;
      const budgetSteps =
        flags.budget === undefined
          ? Infinity
          : 'steps' in flags.budget
            ? flags.budget.steps
            : flags.budget.share * gridCost;
      const runs = new Map<number, RunSummary>();
      const started = new Set<number>();
      const result = await successiveHalving({
        candidates,
        maxSteps: flags.epochs,
        unit: 'epochs',
        ...(Number.isFinite(budgetSteps) ? { budget: budgetSteps } : {}),
        eta: flags.eta,
        passes: epochCost,
        higherIsBetter: !languageModel,
        trainTo: async (candidate, epochs) => {
          const index = candidates.indexOf(candidate);
          const planned = plans[index] as PlannedOptimizer;
          const run = runSpecFor(flags, out, data, planned, flags.seed);
          const summary = await trainRun(flags, data, planned, {
            ...run,
            // The first round starts afresh unless --resume; later rounds continue the checkpoint.
            resume: started.has(index) || flags.resume,
            restart: !started.has(index) && flags.restart,
            stopAfterEpochs: epochs,
          });
          started.add(index);
          runs.set(index, summary);
          if (wasInterrupted()) throw new Interrupted();
          const final = summary.final;
          const metric = languageModel ? final?.validationPerplexity : final?.validationAccuracy;
          return typeof metric === 'number' && Number.isFinite(metric) ? metric : NaN;
        },
      }).catch((error: unknown) => {
        if (error instanceof Interrupted) return null;
        throw error;
      });
      const optimizers: OptimizerResult[] = [...runs.entries()]
        .sort(([a], [b]) => a - b)
        .map(([index, summary]) => {
          const planned = plans[index] as PlannedOptimizer;
          return {
            ...aggregate(planned.spec.label, passesPerStep, flags.epochs, [summary]),
            ...planned.extra,
            ...(summary.completed || summary.epochs >= flags.epochs
              ? {}
              : { stoppedAt: summary.epochs }),
          };
        });
      const tune: TuneSummary | undefined =
        result === null
          ? undefined
          : {
              metric: languageModel ? 'validationPerplexity' : 'validationAccuracy',
              eta: flags.eta,
              budget: Number.isFinite(budgetSteps) ? Math.round(budgetSteps) : result.cost,
              cost: result.cost,
              gridCost,
              rounds: result.rungs,
              stepsPerEpoch: perEpoch,
              passesPerStep,
              trials: result.trials.map((trial) => ({
                rho: trial.candidate.rho,
                learningRate: trial.candidate.learningRate ?? flags.lr,
                round: trial.rung,
                epochs: trial.steps,
                metric: trial.metric,
                kept: trial.kept,
              })),
              best: {
                rho: result.best.rho,
                learningRate: result.best.learningRate ?? flags.lr,
                metric: result.bestMetric,
              },
            };
      const best = tune?.best;
      const bestRun =
        best === undefined
          ? undefined
          : optimizers.find((o) => o.rho === best.rho && o.learningRate === best.learningRate);
      await finish(out, {
        ...baseResults('tune', flags, backend, data),
        optimizers,
        ...(tune === undefined ? {} : { tune }),
        ...(bestRun === undefined || best === undefined
          ? {}
          : {
              best: {
                label: bestRun.label,
                rho: best.rho,
                learningRate: best.learningRate,
                validationAccuracy: bestRun.mean.validationAccuracy as number,
                ...(languageModel
                  ? { validationPerplexity: bestRun.mean.validationPerplexity as number }
                  : {}),
              },
            }),
      });
    });
}

/** Ctrl-C during a round: the tuner stops, the report shows what was trained. */
class Interrupted extends Error {}
