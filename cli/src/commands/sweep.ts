/** `tfjs-sam sweep`: a grid over rho (and the learning rate) on a validation split. */
import type { Command } from 'commander';
import { parseOptimizerSpec } from 'tfjs-sam/toolkit';
import {
  addCommonOptions,
  applyDataDefaults,
  hyperparameters,
  numberList,
  type CommonFlags,
} from '../flags.js';
import { baseResults, finish, runMatrix } from '../matrix.js';
import { outDir, setup } from '../session.js';

export function addSweepCommand(program: Command): void {
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
        applyDataDefaults(flags);
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
          plan.map((p) => p.spec),
        );
        const optimizers = await runMatrix(flags, out, data, plan, flags.seeds);
        // Classifiers by validation accuracy; language models by validation perplexity (lower first).
        const perplexity = optimizers.some((o) => o.mean.validationPerplexity !== undefined);
        const score = (o: (typeof optimizers)[number]) =>
          perplexity
            ? -(o.mean.validationPerplexity as number)
            : (o.mean.validationAccuracy as number);
        const ranked = optimizers
          .filter((o) => o.mean.validationAccuracy !== undefined)
          .sort((a, b) => score(b) - score(a));
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
                  ...(perplexity
                    ? { validationPerplexity: top.mean.validationPerplexity as number }
                    : {}),
                },
              }),
        });
      },
    );
}
