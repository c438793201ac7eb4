/**
 * The start of a training command: its output folder, the checks of its flags and optimizers, the
 * backend and the data.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGE_MODEL_NAMES, MODEL_NAMES } from 'tfjs-sam/models';
import type { OptimizerSpec } from 'tfjs-sam/toolkit';
import { modelForData } from 'tfjs-sam/trainer';
import { checkOptimizers } from './checks.js';
import { parseAugment, type CommonFlags } from './flags.js';
import { prepareData, startBackend, type PreparedData } from './setup.js';
import { inspectUserModel, isModelFile } from './user-model.js';

export function outDir(flags: CommonFlags, kind: string): string {
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
export async function setup(
  flags: CommonFlags,
  specs: readonly OptimizerSpec[],
): Promise<{ backend: string; data: PreparedData }> {
  const ownModel = isModelFile(flags.model);
  const models = [...MODEL_NAMES, ...LANGUAGE_MODEL_NAMES] as readonly string[];
  if (!ownModel && !models.includes(flags.model)) {
    throw new Error(
      `--model is '${flags.model}'; expected one of ${models.join(', ')}, or the path of a model.json.`,
    );
  }
  if (ownModel && flags.workers > 1) {
    throw new Error(
      `--workers ${flags.workers} with --model ${flags.model}: the worker threads build zoo models only; drop --workers (or train a zoo model).`,
    );
  }
  parseAugment(flags.augment);
  const backend = await startBackend(flags.backend, () => undefined);
  checkOptimizers(specs, flags);
  const userModel = ownModel ? await inspectUserModel(flags.model) : undefined;
  const data = await prepareData({
    dataset: flags.dataset,
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(flags.data === undefined ? {} : { data: flags.data }),
    ...(flags.testData === undefined ? {} : { testData: flags.testData }),
    ...(flags.labelColumn === undefined ? {} : { labelColumn: flags.labelColumn }),
    ...(userModel === undefined ? {} : { fit: userModel }),
    ...(flags.trainSubset === undefined ? {} : { trainSubset: flags.trainSubset }),
    labelNoise: flags.labelNoise,
    validation: flags.validation,
    seed: flags.dataSeed,
    tokenizer: flags.tokenizer,
    ...(flags.textColumn === undefined ? {} : { textColumn: flags.textColumn }),
    ...(flags.vocabSize === undefined ? {} : { vocabSize: flags.vocabSize }),
    ...(flags.seqLen === undefined ? {} : { seqLen: flags.seqLen }),
  });
  if (userModel !== undefined) data.userModel = userModel;
  // A zoo model that cannot read these data fails here, before any training.
  else modelForData(flags.model, data.train, flags.dataSeed).build().dispose();
  console.log(
    `${data.description} (data seed ${flags.dataSeed}); model ${flags.model}; ${backend} backend`,
  );
  return { backend, data };
}
