/** A model saved as `model.json` + `weights.bin` in a folder, read without tfjs-node. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';

/** The model of a checkpoint folder (`model.json` + `weights.bin`), with its optimizer. */
export async function loadSavedModel(dir: string): Promise<tfl.LayersModel> {
  for (const file of [MODEL_FILE, WEIGHTS_FILE]) {
    if (!existsSync(join(dir, file))) {
      throw new Error(
        `no ${file} in '${dir}': a saved model folder holds ${MODEL_FILE} and ${WEIGHTS_FILE}.`,
      );
    }
  }
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = JSON.parse(readFileSync(join(dir, MODEL_FILE), 'utf8')) as tf.io.ModelArtifacts;
  } catch (error) {
    throw new Error(
      `checkpoint '${join(dir, MODEL_FILE)}' is not valid JSON: ${(error as Error).message}`,
    );
  }
  const weights = readFileSync(join(dir, WEIGHTS_FILE));
  artifacts.weightData = weights.buffer.slice(
    weights.byteOffset,
    weights.byteOffset + weights.byteLength,
  );
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}
