/** `tfjs-sam sharpness` and `tfjs-sam landscape`: diagnostics of saved models on real data. */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { Option, type Command } from 'commander';
import { createRandom, sampleWithoutReplacement } from '../util/random.js';
import { imagesToTensor, labelsToTensor } from '../data/tensors.js';
import {
  enableHigherOrderGradients,
  hessianEigenvalues,
  modelObjective,
  sharpnessReport,
  worstCaseSharpness,
  type SharpnessReport,
} from '../diagnostics/index.js';
import type { ImageDataset } from '../data/types.js';
import { landscapeReport } from '../report/landscape.js';
import type { FinalSharpness } from './results.js';
import { loadSavedModel } from '../trainer/checkpoint.js';
import { BACKENDS, DATASETS, prepareData, startBackend, type DatasetName } from './setup.js';

export interface DiagnosticDataFlags {
  dataset: DatasetName;
  dataDir?: string;
  trainSubset?: number;
  labelNoise: number;
  dataSeed: number;
  split: 'train' | 'test';
  samples: number;
  backend: string;
}

/**
 * The folder holding `model.json` + `weights.bin` for a path the user gave: that folder itself, a
 * run folder (its `checkpoint/`), or the `model.json` file.
 */
export function resolveModelDir(path: string): string {
  if (!existsSync(path)) {
    throw new Error(
      `model path '${path}' does not exist; give a run folder written by train/compare (runs/<name>-seed<k>), its checkpoint/ folder, or a model.json.`,
    );
  }
  if (statSync(path).isFile()) {
    if (basename(path) !== 'model.json') {
      throw new Error(
        `model path '${path}' is a file but not a model.json; give the model.json of a saved model or its folder.`,
      );
    }
    return dirname(path);
  }
  for (const candidate of [path, join(path, 'checkpoint')]) {
    if (existsSync(join(candidate, 'model.json'))) return candidate;
  }
  throw new Error(
    `no model.json in '${path}' or '${join(path, 'checkpoint')}'; give a run folder written by train/compare or a saved model folder.`,
  );
}

export async function loadDiagnosticModel(path: string): Promise<tfl.LayersModel> {
  return loadSavedModel(resolveModelDir(path));
}

/** A seeded sample of the chosen split as tensors (the caller disposes them). */
export async function diagnosticData(
  flags: DiagnosticDataFlags,
): Promise<{ x: tf.Tensor; y: tf.Tensor; description: string }> {
  const data = await prepareData({
    dataset: flags.dataset,
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(flags.trainSubset === undefined ? {} : { trainSubset: flags.trainSubset }),
    labelNoise: flags.labelNoise,
    validation: 0,
    seed: flags.dataSeed,
  });
  const split = flags.split === 'train' ? data.train : data.test;
  if (split == null) throw new Error(`the ${flags.split} split of ${flags.dataset} is empty.`);
  const count = Math.min(flags.samples, split.count);
  const indices = sampleWithoutReplacement(split.count, count, createRandom(flags.dataSeed + 7));
  const x = imagesToTensor(split, indices);
  const y = labelsToTensor(
    Array.from(indices, (i) => split.labels[i] as number),
    split.classes,
  );
  return {
    x,
    y,
    description: `${count} ${flags.split} samples of ${data.description}`,
  };
}

function positiveInteger(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`${name} is '${text}'; expected an integer >= 1.`);
    }
    return value;
  };
}

function positiveNumber(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`${name} is '${text}'; expected a number > 0.`);
    }
    return value;
  };
}

function fraction(name: string) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0 || value >= 1) {
      throw new Error(`${name} is '${text}'; expected a number in [0, 1).`);
    }
    return value;
  };
}

function addDataOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--dataset <name>', 'data set')
        .choices([...DATASETS])
        .default('fashion-mnist-mini'),
    )
    .option('--data-dir <dir>', 'folder of the data set files')
    .option(
      '--train-subset <n>',
      'the training subset the model was trained on (as given to compare/train)',
      positiveInteger('--train-subset'),
    )
    .option(
      '--label-noise <fraction>',
      'the label noise the model was trained with (the noisy training labels are rebuilt exactly)',
      fraction('--label-noise'),
      0,
    )
    .option(
      '--data-seed <n>',
      'the data seed of that run (its first seed)',
      positiveInteger('--data-seed'),
      1,
    )
    .addOption(
      new Option('--split <name>', 'which split to measure on')
        .choices(['train', 'test'])
        .default('train'),
    )
    .option(
      '--samples <n>',
      'samples measured (seeded subset of the split)',
      positiveInteger('--samples'),
      1000,
    )
    .addOption(
      new Option('--backend <name>', 'tfjs backend').choices([...BACKENDS]).default('wasm'),
    );
}

function formatReport(report: SharpnessReport): string {
  const rows: Array<[string, string]> = [
    ['loss', report.loss.toFixed(5)],
    ['accuracy', report.accuracy === undefined ? '-' : `${(report.accuracy * 100).toFixed(2)}%`],
    [
      'λ_max (Hessian)',
      `${report.lambdaMax.toPrecision(5)} (${report.eigenvalueConvergence[0]?.converged ? 'converged' : 'not converged'} after ${report.eigenvalueConvergence[0]?.iterations} iterations)`,
    ],
    [
      'trace (Hutchinson)',
      `${report.trace.toPrecision(5)} ± ${report.traceStandardError.toPrecision(3)} (${report.traceSamples} samples)`,
    ],
    [`worst-case sharpness (ρ ${report.rho})`, report.worstCaseSharpness.toPrecision(5)],
    ['adaptive sharpness', report.adaptiveSharpness.toPrecision(5)],
    ['m-sharpness', report.mSharpness === null ? '-' : report.mSharpness.toPrecision(5)],
    ...report.averageSharpness.map(
      (p) =>
        [`average sharpness σ=${p.sigma}`, p.averageSharpness.toPrecision(5)] as [string, string],
    ),
    ['Hessian-vector products', report.hvpMethod],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

export function addDiagnosticCommands(program: Command): void {
  addDataOptions(program.command('sharpness <model>'))
    .description(
      'λ_max and trace of the Hessian, worst-case, adaptive, m- and average sharpness of a saved model',
    )
    .option('--rho <rho>', 'radius of the worst-case sharpness', positiveNumber('--rho'), 0.05)
    .option('--iterations <n>', 'power iterations for λ_max', positiveInteger('--iterations'), 50)
    .option(
      '--trace-samples <n>',
      'Hutchinson samples for the trace',
      positiveInteger('--trace-samples'),
      20,
    )
    .option('--seed <n>', 'seed of the random probes', positiveInteger('--seed'), 1)
    .option('--json', 'print one JSON object', false)
    .action(
      async (
        modelPath: string,
        flags: DiagnosticDataFlags & {
          rho: number;
          iterations: number;
          traceSamples: number;
          seed: number;
          json: boolean;
        },
      ) => {
        const backend = await startBackend(flags.backend, () => undefined);
        const model = await loadDiagnosticModel(modelPath);
        const { x, y, description } = await diagnosticData(flags);
        const started = performance.now();
        try {
          const report = sharpnessReport(model, x, y, {
            rho: flags.rho,
            iterations: flags.iterations,
            traceSamples: flags.traceSamples,
            seed: flags.seed,
          });
          const seconds = (performance.now() - started) / 1000;
          if (flags.json) {
            console.log(
              JSON.stringify({ model: modelPath, data: description, backend, seconds, ...report }),
            );
          } else {
            console.log(
              `${modelPath} on ${description}; ${backend} backend; ${seconds.toFixed(1)} s`,
            );
            console.log(formatReport(report));
            for (const warning of report.warnings) console.log(`warning: ${warning}`);
          }
        } finally {
          tf.dispose([x, y]);
          model.dispose();
        }
      },
    );

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
        const { x, y, description } = await diagnosticData(flags);
        mkdirSync(flags.out, { recursive: true });
        try {
          const report = await landscapeReport(
            models,
            x,
            y,
            {
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

/**
 * λ_max (power iteration, 20 iterations) and worst-case sharpness (ρ 0.05, 10 ascent steps) of a
 * saved model on a seeded sample of `train` — what `compare --sharpness` adds per optimizer.
 */
export async function finalSharpness(
  modelPath: string,
  train: ImageDataset,
  options: { samples: number; seed: number },
): Promise<FinalSharpness> {
  const model = await loadDiagnosticModel(modelPath);
  const count = Math.min(options.samples, train.count);
  const indices = sampleWithoutReplacement(train.count, count, createRandom(options.seed + 7));
  const x = imagesToTensor(train, indices);
  const y = labelsToTensor(
    Array.from(indices, (i) => train.labels[i] as number),
    train.classes,
  );
  const undo = enableHigherOrderGradients();
  const started = performance.now();
  try {
    const objective = modelObjective('compare --sharpness', model, x, y, undefined, false);
    const eigen = hessianEigenvalues(objective.lossFn, objective.variables, {
      iterations: 20,
      seed: options.seed,
    });
    const rho = 0.05;
    const worst = worstCaseSharpness(objective.lossFn, objective.variables, {
      rho,
      steps: 10,
      seed: options.seed,
    });
    return {
      seed: options.seed,
      samples: count,
      lambdaMax: eigen.eigenvalues[0] as number,
      lambdaMaxConverged: eigen.details[0]?.converged ?? false,
      rho,
      worstCaseSharpness: worst.sharpness,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    undo();
    tf.dispose([x, y]);
    model.dispose();
  }
}
