/**
 * Checkpoints on disk without tfjs-node: the model (topology, weights, optimizer configuration and
 * state, via `model.save(…, {includeOptimizer: true})`) as `model.json` + `weights.bin`, plus the
 * trainer's own `state.json`. Written to a temporary folder and renamed, so an interrupted save
 * never leaves a half-written checkpoint.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const MODEL_FILE = 'model.json';
const WEIGHTS_FILE = 'weights.bin';
const STATE_FILE = 'state.json';

export function checkpointExists(dir: string): boolean {
  return [MODEL_FILE, WEIGHTS_FILE, STATE_FILE].every((f) => existsSync(join(dir, f)));
}

/**
 * Writes the checkpoint; `extraFiles` are JSON files saved beside the model (e.g. the tokenizer of
 * token data), read back with {@link readCheckpointJson}.
 */
export async function saveCheckpoint(
  dir: string,
  model: tfl.LayersModel,
  state: unknown,
  extraFiles: Record<string, unknown> = {},
): Promise<void> {
  const staging = `${dir}.saving`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const undo = disposeFreshOptimizerWeights(model);
  try {
    await saveModel(model, staging);
  } finally {
    undo();
  }
  writeFileSync(join(staging, STATE_FILE), JSON.stringify(state, null, 2));
  for (const [name, value] of Object.entries(extraFiles)) {
    writeFileSync(join(staging, name), JSON.stringify(value));
  }
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

/** The JSON file `name` of a checkpoint or saved-model folder; undefined when absent. */
export function readCheckpointJson(dir: string, name: string): unknown {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new Error(`'${path}' is not valid JSON: ${(error as Error).message}`);
  }
}

async function saveModel(model: tfl.LayersModel, staging: string): Promise<void> {
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
}

/**
 * `model.save(…, {includeOptimizer: true})` encodes `optimizer.getWeights()` and never disposes
 * what it returns; optimizers create some of those tensors on each call (the iteration count,
 * SAM's own state). Until `undo` is called, the tensors a `getWeights` call creates are disposed
 * once it has been encoded, so that saving a checkpoint every epoch leaks nothing.
 */
function disposeFreshOptimizerWeights(model: tfl.LayersModel): () => void {
  const optimizer = model.optimizer as tf.Optimizer | undefined;
  if (optimizer == null) return () => undefined;
  const original = Object.hasOwn(optimizer, 'getWeights') ? optimizer.getWeights : undefined;
  const getWeights = optimizer.getWeights.bind(optimizer);
  const fresh: tf.Tensor[] = [];
  optimizer.getWeights = async () => {
    const probe = tf.scalar(0);
    const mark = probe.id;
    probe.dispose();
    const weights = await getWeights();
    fresh.push(...weights.map((w) => w.tensor).filter((t) => t.id > mark));
    return weights;
  };
  return () => {
    if (original === undefined) delete (optimizer as Partial<tf.Optimizer>).getWeights;
    else optimizer.getWeights = original;
    tf.dispose(fresh);
  };
}
