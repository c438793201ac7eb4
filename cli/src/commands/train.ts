/** `tfjs-sam train`: one model with one optimizer. */
import type { Command } from 'commander';
import { parseOptimizerSpec } from 'tfjs-sam/toolkit';
import {
  addCommonOptions,
  applyDataDefaults,
  hyperparameters,
  numberIn,
  type CommonFlags,
} from '../flags.js';
import { baseResults, finish, runMatrix } from '../matrix.js';
import { outDir, setup } from '../session.js';

export function addTrainCommand(program: Command): void {
  addCommonOptions(program.command('train'))
    .description('train one model with one optimizer')
    .option('--optimizer <spec>', 'e.g. sam, asam, "gsam(alpha=0.3)"', 'sam')
    .option('--seed <n>', 'seed', numberIn('--seed', 0, Infinity, true), 1)
    .action(async (flags: CommonFlags & { optimizer: string; seed: number }) => {
      applyDataDefaults(flags);
      const spec = parseOptimizerSpec(flags.optimizer);
      const out = outDir(flags, 'train');
      const { backend, data } = await setup(flags, [spec]);
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
}
