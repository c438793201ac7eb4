#!/usr/bin/env node
/**
 * tfjs-sam — train and compare sharpness-aware optimizers on real data.
 *   tfjs-sam compare --optimizers sgd,sam --epochs 1 --seeds 1 --out runs/quick
 *   tfjs-sam train --optimizer "gsam(alpha=0.3)" --dataset fashion-mnist --model cnn
 *   tfjs-sam sweep --optimizer sam --rho 0.01,0.05,0.1,0.2 --validation 0.1
 *   tfjs-sam report runs/quick
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import {
  knownOptimizerNames,
  parseOptimizerList,
  parseOptimizerSpec,
} from '../toolkit/optimizer-spec.js';
import { printSummary, readResults, renderReport } from './results.js';
import { addDiagnosticCommands, finalSharpness } from './diagnose.js';
import { folderName, wasInterrupted } from './run.js';
import {
  addCommonOptions,
  hyperparameters,
  numberIn,
  numberList,
  type CommonFlags,
} from './flags.js';
import { baseResults, finish, passes, runMatrix } from './matrix.js';
import { outDir, setup } from './session.js';

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
