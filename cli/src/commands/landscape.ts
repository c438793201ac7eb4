/** `tfjs-sam landscape`: loss-landscape slices of a saved model (and the path to a second one). */
import { mkdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { Command } from 'commander';
import { landscapeReport } from '../report/landscape.js';
import { diagnosticData, loadDiagnosticModel } from '../diagnose.js';
import {
  addDataOptions,
  positiveInteger,
  positiveNumber,
  type DiagnosticDataFlags,
} from '../flags.js';
import { startBackend } from '../setup.js';

export function addLandscapeCommand(program: Command): void {
  addDataOptions(program.command('landscape <model>'))
    .description(
      'loss landscape of a saved model: 1D and 2D filter-normalized slices, and the interpolation to --compare',
    )
    .option(
      '--compare <model>',
      'a second model of the same architecture: adds the 1D interpolation',
    )
    .requiredOption('--out <dir>', 'output folder for landscape.json, plots and landscape.html')
    .option('--points1d <n>', 'points of the 1D slice', positiveInteger('--points1d'), 25)
    .option('--points2d <n>', 'points per axis of the 2D slice', positiveInteger('--points2d'), 15)
    .option(
      '--span <s>',
      'the slices cover [-s, s] along each direction',
      positiveNumber('--span'),
      1,
    )
    .option('--no-2d', 'skip the 2D slice')
    .option('--seed <n>', 'seed of the random directions', positiveInteger('--seed'), 1)
    .action(
      async (
        modelPath: string,
        flags: DiagnosticDataFlags & {
          compare?: string;
          out: string;
          points1d: number;
          points2d: number;
          span: number;
          '2d': boolean;
          seed: number;
        },
      ) => {
        await startBackend(flags.backend, () => undefined);
        const models = [await loadDiagnosticModel(modelPath)];
        if (flags.compare !== undefined) models.push(await loadDiagnosticModel(flags.compare));
        const { x, y, description, loss } = await diagnosticData(flags, modelPath, models[0]!);
        mkdirSync(flags.out, { recursive: true });
        try {
          const report = await landscapeReport(
            models,
            x,
            y,
            {
              loss,
              seed: flags.seed,
              points1d: flags.points1d,
              points2d: flags.points2d,
              range: [-flags.span, flags.span],
              skip2d: !flags['2d'],
              title: `${modelPath} on ${description}`,
            },
            flags.out,
          );
          console.log(`${modelPath} on ${description}`);
          console.log(
            `wrote ${[report.files.json, report.files.html, ...report.files.charts].join(', ')}`,
          );
        } finally {
          tf.dispose([x, y]);
          for (const m of models) m.dispose();
        }
      },
    );
}
