/**
 * The start of a training command: its output folder, the checks of its flags and optimizers, the
 * backend and the data.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGE_MODEL_NAMES, MODEL_NAMES } from '../models/index.js';
import { modelForData } from '../trainer/workload.js';
import type { OptimizerSpec } from '../toolkit/optimizer-spec.js';
import { checkOptimizers } from './checks.js';
import { parseAugment, type CommonFlags } from './flags.js';
import { prepareData, startBackend, type PreparedData } from './setup.js';

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
  seed: number,
  specs: readonly OptimizerSpec[],
): Promise<{ backend: string; data: PreparedData }> {
  const models = [...MODEL_NAMES, ...LANGUAGE_MODEL_NAMES] as readonly string[];
  if (!models.includes(flags.model)) {
    throw new Error(`--model is '${flags.model}'; expected one of ${models.join(', ')}.`);
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
    tokenizer: flags.tokenizer,
    ...(flags.textColumn === undefined ? {} : { textColumn: flags.textColumn }),
    ...(flags.labelColumn === undefined ? {} : { labelColumn: flags.labelColumn }),
    ...(flags.vocabSize === undefined ? {} : { vocabSize: flags.vocabSize }),
    ...(flags.seqLen === undefined ? {} : { seqLen: flags.seqLen }),
  });
  // A model that cannot read these data fails here, before any training.
  modelForData(flags.model, data.train, seed).build().dispose();
  console.log(`${data.description}; model ${flags.model}; ${backend} backend`);
  return { backend, data };
}
