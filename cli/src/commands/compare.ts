/** `tfjs-sam compare`: several optimizers on the same data, model, seeds and budget. */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { knownOptimizerNames, parseOptimizerList } from 'tfjs-sam/toolkit';
import { finalSharpness } from '../diagnose.js';
import {
  addCommonOptions,
  applyDataDefaults,
  hyperparameters,
  numberList,
  type CommonFlags,
} from '../flags.js';
import { baseResults, finish, passes, runMatrix } from '../matrix.js';
import { folderName } from '../run.js';
import { wasInterrupted } from '../signals.js';
import { outDir, setup } from '../session.js';

export function addCompareCommand(program: Command): void {
  addCommonOptions(program.command('compare'))
    .description(
      'train several optimizers on the same data, model, seeds and budget; write results.json and report.html',
    )
    .option(
      '--optimizers <list>',
      `comma-separated: ${knownOptimizerNames().join(', ')}; options in parentheses, e.g. "sgd,sam(rho=0.1),gsam(alpha=0.3)"; tfjs-sam methods lists every option (default sgd,sam for images, adamw,sam for text)`,
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
          optimizers?: string;
          seeds: number[];
          budget: string;
          sharpness?: string | boolean;
        },
      ) => {
        const defaultOptimizers = applyDataDefaults(flags);
        const specs = parseOptimizerList(flags.optimizers ?? defaultOptimizers);
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
        const { backend, data } = await setup(flags, specs);
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
}
