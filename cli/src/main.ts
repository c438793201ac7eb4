#!/usr/bin/env node
/**
 * tfjs-sam — train and compare sharpness-aware optimizers on real data.
 *   tfjs-sam compare --optimizers sgd,sam --epochs 1 --seeds 1 --out runs/quick
 *   tfjs-sam train --optimizer "gsam(alpha=0.3)" --dataset fashion-mnist --model cnn
 *   tfjs-sam sweep --optimizer sam --rhos 0.01,0.05,0.1,0.2 --validation 0.1
 *   tfjs-sam tune --optimizer sam --rhos 0.01,0.02,0.05,0.1,0.2,0.5 --budget 40%
 *   tfjs-sam report runs/quick
 *   tfjs-sam pareto runs/a runs/b --out runs/pareto
 *   tfjs-sam methods
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { addCompareCommand } from './commands/compare.js';
import { addLandscapeCommand } from './commands/landscape.js';
import { addMethodsCommand } from './commands/methods.js';
import { addParetoCommand } from './commands/pareto.js';
import { addReportCommand } from './commands/report.js';
import { addSharpnessCommand } from './commands/sharpness.js';
import { addSweepCommand } from './commands/sweep.js';
import { addTrainCommand } from './commands/train.js';
import { addTuneCommand } from './commands/tune.js';
import { runInChildProcess, underTsxCommand } from './signals.js';

export function buildProgram(): Command {
  const program = new Command('tfjs-sam')
    .description(
      'Train and compare sharpness-aware optimizers (SAM and its family) with TensorFlow.js',
    )
    .showHelpAfterError();

  addCompareCommand(program);
  addTrainCommand(program);
  addSweepCommand(program);
  addTuneCommand(program);
  addSharpnessCommand(program);
  addLandscapeCommand(program);
  addReportCommand(program);
  addParetoCommand(program);
  addMethodsCommand(program);

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

if (invokedDirectly() && underTsxCommand()) {
  // Under tsx's command a busy process is killed 30 ms after Ctrl-C (see signals.ts).
  runInChildProcess();
} else if (invokedDirectly()) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      console.error(`tfjs-sam: ${(error as Error).message}`);
      process.exit(1);
    });
}
