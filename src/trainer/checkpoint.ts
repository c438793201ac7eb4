/**
 * Checkpoints on disk without tfjs-node: the model (topology, weights, optimizer configuration and
 * state, via `model.save(…, {includeOptimizer: true})`) as `model.json` + `weights.bin`, plus the
 * trainer's own `state.json`. Written to a temporary folder and renamed, so an interrupted save
 * never leaves a half-written checkpoint.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadSavedModel } from '../node/saved-model.js';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
const STATE_FILE = 'state.json';

export function checkpointExists(dir: string): boolean {
  return [MODEL_FILE, WEIGHTS_FILE, STATE_FILE].every((f) => existsSync(join(dir, f)));
}

export async function saveCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  state: unknown,
): Promise<void> {
  const staging = `${dir}.saving`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const { weightData, ...rest } = artifacts;
      const buffers =
        weightData === undefined ? [] : Array.isArray(weightData) ? weightData : [weightData];
      writeFileSync(join(staging, WEIGHTS_FILE), Buffer.concat(buffers.map((b) => Buffer.from(b))));
      writeFileSync(join(staging, MODEL_FILE), JSON.stringify(rest));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    { includeOptimizer: true },
  );
  writeFileSync(join(staging, STATE_FILE), JSON.stringify(state, null, 2));
  rmSync(dir, { recursive: true, force: true });
  renameSync(staging, dir);
}

export async function loadCheckpoint<State>(
  dir: string,
): Promise<{ model: tfl.LayersModel; state: State }> {
  if (!checkpointExists(dir)) {
    throw new Error(
      `no checkpoint in '${dir}': expected ${MODEL_FILE}, ${WEIGHTS_FILE} and ${STATE_FILE} there. ` +
        'Start without --resume, or point --out at the folder of the run to continue.',
    );
  }
  const model = await loadSavedModel(dir);
  const state = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as State;
  return { model, state };
}
