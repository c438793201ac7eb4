#!/usr/bin/env node
/**
 * tfjs-sam — train and compare sharpness-aware optimizers on real data.
 *   tfjs-sam compare --optimizers sgd,sam --epochs 1 --seeds 1 --out runs/quick
 *   tfjs-sam train --optimizer "gsam(alpha=0.3)" --dataset fashion-mnist --model cnn
 *   tfjs-sam sweep --optimizer sam --rho 0.01,0.05,0.1,0.2 --validation 0.1
 *   tfjs-sam report runs/quick
 */
import { mkdirSync, realpathSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import type * as tf from '@tensorflow/tfjs-core';
import type { SAM } from '../core/sam.js';
import { batchCount } from '../data/batches.js';
import { MODEL_NAMES } from '../models/index.js';
import { disposeOptimizer } from '../optimizers/registry.js';
import { checkDataParallelOptimizer } from '../parallel/optimizer-plan.js';
import type { ModelSpec } from '../parallel/protocol.js';
import {
  buildOptimizer,
  isPlainOptimizer,
  knownOptimizerNames,
  parseOptimizerList,
  parseOptimizerSpec,
  passesPerStep,
  type CommonHyperparameters,
  type OptimizerSpec,
} from '../toolkit/optimizer-spec.js';
import {
  aggregate,
  printSummary,
  readResults,
  renderReport,
  writeResults,
  type OptimizerResult,
  type ResultsFile,
} from './results.js';
import { addDiagnosticCommands, finalSharpness } from './diagnose.js';
import { folderName, runOne, wasInterrupted, type RunSpec } from './run.js';
import {
  addCommonOptions,
  hyperparameters,
  numberIn,
  numberList,
  parseAugment,
  type CommonFlags,
} from './flags.js';
import { modelBuilder, prepareData, startBackend, type PreparedData } from './setup.js';

function commandLine(): string {
  return ['tfjs-sam', ...process.argv.slice(2)]
    .map((a) => (/[\s()]/.test(a) ? `'${a}'` : a))
    .join(' ');
}

function machine(): string {
  const cores = cpus();
  return `${cores.length} × ${cores[0]?.model.trim() ?? 'cpu'}, node ${process.version}`;
}

function outDir(flags: CommonFlags, kind: string): string {
  const dir =
    flags.out ?? join('runs', `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Checks the flags that are only read later (model, augmentation, every optimizer with its
 * options), then starts the backend and loads the data: a typo in the last optimizer of a
 * comparison is reported before the first one trains.
 */
async function setup(
  flags: CommonFlags,
  seed: number,
  specs: readonly OptimizerSpec[],
): Promise<{ backend: string; data: PreparedData }> {
  if (!(MODEL_NAMES as readonly string[]).includes(flags.model)) {
    throw new Error(`--model is '${flags.model}'; expected one of ${MODEL_NAMES.join(', ')}.`);
  }
  parseAugment(flags.augment);
  const backend = await startBackend(flags.backend, () => undefined);
  checkOptimizers(specs, flags);
  const data = await prepareData({
    dataset: flags.dataset,
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(flags.trainSubset === undefined ? {} : { trainSubset: flags.trainSubset }),
    labelNoise: flags.labelNoise,
    validation: flags.validation,
    seed,
  });
  console.log(`${data.description}; model ${flags.model}; ${backend} backend`);
  return { backend, data };
}

/** Trains every (optimizer, seed) pair; returns one aggregated result per optimizer. */
async function runMatrix(
  flags: CommonFlags,
  out: string,
  data: PreparedData,
  specs: Array<{
    spec: OptimizerSpec;
    common: CommonHyperparameters;
    epochs: number;
    extra?: Partial<OptimizerResult>;
  }>,
  seeds: number[],
): Promise<OptimizerResult[]> {
  const results: OptimizerResult[] = [];
  for (const { spec, common, epochs, extra } of specs) {
    const runs = [];
    for (const seed of seeds) {
      const run: RunSpec = {
        label: spec.label,
        seed,
        epochs,
        batchSize: flags.batchSize,
        learningRate: common.learningRate,
        schedule: flags.schedule,
        warmupEpochs: flags.warmupEpochs,
        labelSmoothing: flags.labelSmoothing,
        // Plain optimizers have no perturbation to split: they train as usual next to SAM.
        mSharpness: isPlainOptimizer(spec.name) ? 1 : flags.mSharpness,
        // The zoo spec modelBuilder builds, so that every worker builds the same model.
        dataParallel:
          flags.workers > 1
            ? {
                model: {
                  name: flags.model,
                  options: { inputShape: data.train.shape, classes: data.train.classes, seed },
                } as ModelSpec,
                replicas: flags.workers,
              }
            : null,
        augment: parseAugment(flags.augment),
        dir: join(out, 'runs', folderName(spec.label, seed)),
        resume: flags.resume,
        progress: flags.progress,
      };
      runs.push(
        await runOne(run, data, modelBuilder(flags.model, data, seed), () =>
          buildOptimizer(spec, withStepsPerEpoch(common, data, flags)),
        ),
      );
      if (wasInterrupted())
        return [
          ...results,
          { ...aggregate(spec.label, passes(spec, data, flags), epochs, runs), ...extra },
        ];
    }
    results.push({ ...aggregate(spec.label, passes(spec, data, flags), epochs, runs), ...extra });
  }
  return results;
}

function stepsPerEpoch(data: PreparedData, flags: CommonFlags): number {
  return batchCount(data.train.count, flags.batchSize);
}

function withStepsPerEpoch(
  common: CommonHyperparameters,
  data: PreparedData,
  flags: CommonFlags,
): CommonHyperparameters {
  return { ...common, stepsPerEpoch: stepsPerEpoch(data, flags) };
}

function passes(spec: OptimizerSpec, data: PreparedData, flags: CommonFlags): number {
  return passesPerStep(spec, { stepsPerEpoch: stepsPerEpoch(data, flags) });
}

async function finish(out: string, results: ResultsFile): Promise<void> {
  writeResults(out, results);
  printSummary(results);
  const report = await renderReport(out, results);
  console.log(`\nwrote ${join(out, 'results.json')} and ${report}`);
  if (wasInterrupted()) {
    console.log(
      `interrupted: checkpoints are in ${out}/runs; continue with the same command plus --resume --out ${out}`,
    );
    process.exitCode = 130;
  }
}

function baseResults(
  kind: 'compare' | 'sweep',
  flags: CommonFlags,
  backend: string,
  data: PreparedData,
): Omit<ResultsFile, 'optimizers'> {
  return {
    kind,
    command: commandLine(),
    date: new Date().toISOString(),
    machine: machine(),
    backend,
    data: data.description,
    model: flags.model,
    settings: {
      epochs: flags.epochs,
      batchSize: flags.batchSize,
      lr: flags.lr,
      momentum: flags.momentum,
      weightDecay: flags.weightDecay,
      base: flags.base,
      rho: flags.rho ?? 'method default',
      schedule: flags.schedule,
      warmupEpochs: flags.warmupEpochs,
      labelSmoothing: flags.labelSmoothing,
      mSharpness: flags.mSharpness,
      workers: flags.workers,
      augment: flags.augment ?? 'none',
    },
  };
}

/**
 * Builds every optimizer once, so that a bad option fails before any training, and refuses
 * --m-sharpness for methods that cannot split their step.
 */
function checkOptimizers(specs: readonly OptimizerSpec[], flags: CommonFlags): void {
  for (const spec of specs) {
    const optimizer = buildOptimizer(spec, hyperparameters(flags)) as Partial<SAM> & tf.Optimizer;
    const supported = optimizer.supportsMSharpness === true;
    const selectedFraction = spec.name === 'esam' ? (optimizer as { gamma?: number }).gamma : 1;
    let dataParallelProblem: string | null = null;
    if (flags.workers > 1) {
      try {
        checkDataParallelOptimizer(optimizer);
      } catch (error) {
        dataParallelProblem = (error as Error).message.replace(/^createDataParallel: /, '');
      }
    }
    disposeOptimizer(optimizer);
    if (dataParallelProblem !== null) {
      throw new Error(`--workers ${flags.workers}: ${dataParallelProblem}`);
    }
    if (flags.workers > 1 && flags.mSharpness > 1) {
      throw new Error(
        `--workers ${flags.workers} with --m-sharpness ${flags.mSharpness}: data-parallel SAM already takes one perturbation per thread's slice (m = ${flags.workers}); drop --m-sharpness.`,
      );
    }
    if (flags.mSharpness > 1 && selectedFraction !== undefined && selectedFraction < 1) {
      throw new Error(
        `--m-sharpness ${flags.mSharpness}: ${spec.label} selects the sharpest ${selectedFraction} of each batch for its second pass, and one selection over m parts is not defined. Use esam(gamma=1) (weight perturbation only) or drop --m-sharpness.`,
      );
    }
    if (flags.mSharpness > 1 && !isPlainOptimizer(spec.name) && !supported) {
      throw new Error(
        `--m-sharpness ${flags.mSharpness}: ${spec.label} changes the SAM update itself, so per-part perturbations cannot be averaged into it. m-sharpness works with sam, asam, samon and esam(gamma=1); drop ${spec.label} or --m-sharpness.`,
      );
    }
  }
}

export function buildProgram(): Command {
  const program = new Command('tfjs-sam')
    .description(
      'Train and compare sharpness-aware optimizers (SAM and its family) with TensorFlow.js',
    )
    .showHelpAfterError();

  addCommonOptions(program.command('compare'))
    .description(
      'train several optimizers on the same data, model, seeds and budget; write results.json and report.html',
    )
    .option(
      '--optimizers <list>',
      `comma-separated: ${knownOptimizerNames().join(', ')}; options in parentheses, e.g. "sgd,sam(rho=0.1),gsam(alpha=0.3)"`,
      'sgd,sam',
    )
    .option('--seeds <list>', 'seeds, e.g. 1,2,3', numberList('--seeds', 0, true), [1])
    .addOption(
      new Option(
        '--budget <kind>',
        'equal-steps: same epochs for all; equal-compute: same number of gradient evaluations (cheaper optimizers get more epochs, as in the SAM paper)',
      )
        .choices(['equal-steps', 'equal-compute'])
        .default('equal-steps'),
    )
    .option(
      '--sharpness [samples]',
      "after training, λ_max and worst-case sharpness of each optimizer's first-seed model on this many training samples (default 512)",
    )
    .action(
      async (
        flags: CommonFlags & {
          optimizers: string;
          seeds: number[];
          budget: string;
          sharpness?: string | boolean;
        },
      ) => {
        const specs = parseOptimizerList(flags.optimizers);
        const sharpnessSamples =
          flags.sharpness === undefined
            ? null
            : flags.sharpness === true
              ? 512
              : Number(flags.sharpness);
        if (
          sharpnessSamples !== null &&
          (!Number.isInteger(sharpnessSamples) || sharpnessSamples < 1)
        ) {
          throw new Error(
            `--sharpness is '${String(flags.sharpness)}'; expected a number of samples >= 1 (or no value for 512).`,
          );
        }
        const out = outDir(flags, 'compare');
        const { backend, data } = await setup(flags, flags.seeds[0] as number, specs);
        const costliest = Math.max(...specs.map((spec) => passes(spec, data, flags)));
        const plan = specs.map((spec) => ({
          spec,
          common: hyperparameters(flags),
          epochs:
            flags.budget === 'equal-compute'
              ? Math.max(1, Math.round((flags.epochs * costliest) / passes(spec, data, flags)))
              : flags.epochs,
        }));
        console.log(
          `budget ${flags.budget}: ${plan.map((p) => `${p.spec.label} ${p.epochs} epochs`).join(', ')}`,
        );
        const optimizers = await runMatrix(flags, out, data, plan, flags.seeds);
        if (sharpnessSamples !== null && !wasInterrupted()) {
          for (const result of optimizers) {
            const seed = flags.seeds[0] as number;
            result.sharpness = await finalSharpness(
              join(out, 'runs', folderName(result.label, seed), 'checkpoint'),
              data.train,
              { samples: sharpnessSamples, seed },
            );
            console.log(
              `${result.label}: λ_max ${result.sharpness.lambdaMax.toPrecision(4)}, worst-case sharpness ${result.sharpness.worstCaseSharpness.toPrecision(4)} (${result.sharpness.seconds.toFixed(1)} s)`,
            );
          }
        }
        await finish(out, {
          ...baseResults('compare', flags, backend, data),
          budget: flags.budget,
          optimizers,
        });
      },
    );

  addCommonOptions(program.command('train'))
    .description('train one model with one optimizer')
    .option('--optimizer <spec>', 'e.g. sam, asam, "gsam(alpha=0.3)"', 'sam')
    .option('--seed <n>', 'seed', numberIn('--seed', 0, Infinity, true), 1)
    .action(async (flags: CommonFlags & { optimizer: string; seed: number }) => {
      const spec = parseOptimizerSpec(flags.optimizer);
      const out = outDir(flags, 'train');
      const { backend, data } = await setup(flags, flags.seed, [spec]);
      const optimizers = await runMatrix(
        flags,
        out,
        data,
        [{ spec, common: hyperparameters(flags), epochs: flags.epochs }],
        [flags.seed],
      );
      await finish(out, {
        ...baseResults('compare', flags, backend, data),
        budget: 'single run',
        optimizers,
      });
    });

  addCommonOptions(program.command('sweep'))
    .description(
      'grid over rho (and optionally the learning rate) on a validation split; report the best',
    )
    .option('--optimizer <spec>', 'the optimizer to tune', 'sam')
    .option('--rhos <list>', 'rho grid', numberList('--rhos', 0), [0.01, 0.02, 0.05, 0.1, 0.2])
    .option('--lrs <list>', 'learning-rate grid (default: --lr)', numberList('--lrs', 0))
    .option('--seeds <list>', 'seeds', numberList('--seeds', 0, true), [1])
    .action(
      async (
        flags: CommonFlags & { optimizer: string; rhos: number[]; lrs?: number[]; seeds: number[] },
      ) => {
        if (flags.validation <= 0) flags.validation = 0.1;
        const spec = parseOptimizerSpec(flags.optimizer);
        const out = outDir(flags, 'sweep');
        const plan = (flags.lrs ?? [flags.lr]).flatMap((lr) =>
          flags.rhos.map((rho) => ({
            spec: {
              ...spec,
              label: `${spec.label} rho=${rho} lr=${lr}`,
              options: { ...spec.options, rho },
            },
            common: { ...hyperparameters(flags), learningRate: lr },
            epochs: flags.epochs,
            extra: { rho, learningRate: lr },
          })),
        );
        const { backend, data } = await setup(
          flags,
          flags.seeds[0] as number,
          plan.map((p) => p.spec),
        );
        const optimizers = await runMatrix(flags, out, data, plan, flags.seeds);
        const ranked = optimizers
          .filter((o) => o.mean.validationAccuracy !== undefined)
          .sort(
            (a, b) => (b.mean.validationAccuracy as number) - (a.mean.validationAccuracy as number),
          );
        const top = ranked[0];
        await finish(out, {
          ...baseResults('sweep', flags, backend, data),
          optimizers,
          ...(top === undefined
            ? {}
            : {
                best: {
                  label: top.label,
                  rho: top.rho as number,
                  learningRate: top.learningRate as number,
                  validationAccuracy: top.mean.validationAccuracy as number,
                },
              }),
        });
      },
    );

  addDiagnosticCommands(program);

  program
    .command('report <dir>')
    .description('re-render report.html and the plots of a compare/sweep folder from its logs')
    .action(async (dir: string) => {
      const results = readResults(dir);
      printSummary(results);
      console.log(`\nwrote ${await renderReport(dir, results)}`);
    });

  return program;
}

/** Run as a program (`tfjs-sam …`, through npm's bin symlink too), not imported by a test. */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`tfjs-sam: ${(error as Error).message}`);
      process.exit(1);
    });
}
