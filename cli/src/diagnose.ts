/**
 * Saved models and the data they are measured on, for `tfjs-sam sharpness`, `tfjs-sam landscape`
 * and `compare --sharpness`.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRandom, sampleWithoutReplacement } from 'tfjs-sam/toolkit';
import { examplesTask, exampleTensors, type Examples } from 'tfjs-sam/data';
import { isTextDatasetName, tokenizerFromJSON } from 'tfjs-sam/text';
import {
  enableHigherOrderGradients,
  hessianEigenvalues,
  modelObjective,
  worstCaseSharpness,
  type ModelLoss,
} from 'tfjs-sam/diagnostics';
import type { FinalSharpness } from './results.js';
import { loadSavedModel } from 'tfjs-sam/node';
import { readCheckpointJson, TOKENIZER_FILE, toModelInput } from 'tfjs-sam/trainer';
import type { DiagnosticDataFlags } from './flags.js';
import { prepareData, type DataOptions } from './setup.js';

/** The loss the diagnostics measure on `examples`: the trainer's, written for second derivatives. */
export function diagnosticLoss(examples: Examples): ModelLoss {
  return examplesTask(examples) === 'next-token'
    ? 'sparseCategoricalCrossentropyFromLogits'
    : 'categoricalCrossentropy';
}

/**
 * For a model trained on text: the data options that rebuild its tokens — its own tokenizer
 * (`tokenizer.json` saved beside it) and its input length.
 */
function textDataOptions(modelPath: string, model: tfl.LayersModel): Partial<DataOptions> {
  const dir = resolveModelDir(modelPath);
  const json = readCheckpointJson(dir, TOKENIZER_FILE);
  if (json === undefined) {
    throw new Error(
      `'${dir}' has no ${TOKENIZER_FILE}: the model was not trained on text by this version, so its vocabulary is unknown. Measure a model written by compare/train on this --dataset.`,
    );
  }
  const seqLen = model.inputs[0]?.shape[1];
  return {
    fittedTokenizer: tokenizerFromJSON(json, join(dir, TOKENIZER_FILE)),
    ...(typeof seqLen === 'number' ? { seqLen } : {}),
  };
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

/**
 * A seeded sample of the chosen split as tensors (the caller disposes them), and the loss to
 * measure on it. Text data are encoded with the model's own tokenizer and input length.
 */
export async function diagnosticData(
  flags: DiagnosticDataFlags,
  modelPath: string,
  model: tfl.LayersModel,
): Promise<{ x: tf.Tensor; y: tf.Tensor; description: string; loss: ModelLoss }> {
  const inputShape = model.inputs[0]?.shape.slice(1);
  const classes = model.outputs[0]?.shape[1];
  const data = await prepareData({
    dataset: flags.dataset,
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(flags.data === undefined ? {} : { data: flags.data }),
    ...(flags.testData === undefined ? {} : { testData: flags.testData }),
    ...(flags.labelColumn === undefined ? {} : { labelColumn: flags.labelColumn }),
    ...(flags.data !== undefined &&
    inputShape !== undefined &&
    inputShape.every((dim) => dim != null) &&
    typeof classes === 'number'
      ? { fit: { inputShape: inputShape as number[], classes } }
      : {}),
    ...(flags.trainSubset === undefined ? {} : { trainSubset: flags.trainSubset }),
    ...(flags.textColumn === undefined ? {} : { textColumn: flags.textColumn }),
    labelNoise: flags.labelNoise,
    validation: 0,
    seed: flags.dataSeed,
    ...(isTextDatasetName(flags.dataset) ? textDataOptions(modelPath, model) : {}),
  });
  const split = flags.split === 'train' ? data.train : data.test;
  if (split == null) {
    throw new Error(
      `the ${flags.split} split of ${flags.data ?? flags.dataset} is empty${flags.data !== undefined && flags.split === 'test' ? ': give --test-data' : ''}.`,
    );
  }
  const count = Math.min(flags.samples, split.count);
  const indices = sampleWithoutReplacement(split.count, count, createRandom(flags.dataSeed + 7));
  const { xs: inputs, ys } = exampleTensors(split, indices);
  const xs = toModelInput(model, inputs);
  if (xs !== inputs) inputs.dispose();
  return {
    x: xs,
    y: ys,
    description: `${count} ${flags.split} samples of ${data.description}`,
    loss: diagnosticLoss(split),
  };
}

/** Samples per Hessian-vector product in `sharpness` (its --hvp-batch-size default) and `compare --sharpness`. */
export const HVP_BATCH_SIZE = 128;

/**
 * λ_max (power iteration, 20 iterations) and worst-case sharpness (ρ 0.05, 10 ascent steps) of a
 * saved model on a seeded sample of `train` — what `compare --sharpness` adds per optimizer.
 */
export async function finalSharpness(
  modelPath: string,
  train: Examples,
  options: { samples: number; seed: number },
): Promise<FinalSharpness> {
  const model = await loadDiagnosticModel(modelPath);
  const count = Math.min(options.samples, train.count);
  const indices = sampleWithoutReplacement(train.count, count, createRandom(options.seed + 7));
  const { xs: inputs, ys: y } = exampleTensors(train, indices);
  const x = toModelInput(model, inputs);
  if (x !== inputs) inputs.dispose();
  const undo = enableHigherOrderGradients();
  const started = performance.now();
  try {
    const objective = modelObjective(
      'compare --sharpness',
      model,
      x,
      y,
      diagnosticLoss(train),
      false,
    );
    const eigen = hessianEigenvalues(objective.hessianLoss(HVP_BATCH_SIZE), objective.variables, {
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
