/**
 * Checkpoints on disk without tfjs-node: the model (topology, weights, optimizer configuration and
 * state, via `model.save(…, {includeOptimizer: true})`) in tfjs-node's layout, `model.json` +
 * `weights.bin`, written by tfjs-sam/node's file handler (so `tf.loadLayersModel('file://…')`
 * reads a checkpoint), plus the trainer's own `state.json`.
 *
 * A checkpoint is written whole into `<dir>.next`, then swapped in: `<dir>` → `<dir>.prev`,
 * `<dir>.next` → `<dir>`, `<dir>.prev` removed. A process killed at any moment leaves either the
 * old or the new checkpoint complete, and `recoverCheckpoint` finds it: `<dir>` when it is there
 * (a partial `<dir>.next` is discarded), else `<dir>.next` when complete (killed between the two
 * renames), else `<dir>.prev`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  fileSystem,
  MODEL_FILE,
  syncFolder,
  WEIGHTS_FILE,
  writeFileDurably,
} from '../node/file-io.js';
import { loadSavedModel } from '../node/saved-model.js';

export const STATE_FILE = 'state.json';
const FILES = [MODEL_FILE, WEIGHTS_FILE, STATE_FILE];

/** A checkpoint folder that cannot be resumed from: it names the file and what is wrong. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`checkpoint ${file}: ${problem}`);
  }
}

const complete = (dir: string) => FILES.every((file) => existsSync(join(dir, file)));

/**
 * Brings `dir` to the last checkpoint written completely (see the module comment) and reports
 * what is there: 'none' (no checkpoint was ever completed), 'complete', or the files missing from
 * a `dir` that holds some but not all of them.
 */
export function recoverCheckpoint(dir: string): 'none' | 'complete' | { missing: string[] } {
  const next = `${dir}.next`;
  const prev = `${dir}.prev`;
  if (!existsSync(dir)) {
    if (existsSync(next) && complete(next)) renameSync(next, dir);
    else if (existsSync(prev) && complete(prev)) renameSync(prev, dir);
  }
  if (existsSync(dir)) {
    rmSync(next, { recursive: true, force: true });
    rmSync(prev, { recursive: true, force: true });
  }
  if (!existsSync(dir)) return 'none';
  const missing = FILES.filter((file) => !existsSync(join(dir, file)));
  return missing.length === 0 ? 'complete' : { missing };
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
  const next = `${dir}.next`;
  const prev = `${dir}.prev`;
  rmSync(next, { recursive: true, force: true });
  mkdirSync(next, { recursive: true });
  const undo = disposeFreshOptimizerWeights(model);
  try {
    await model.save(fileSystem(next), { includeOptimizer: true });
  } finally {
    undo();
  }
  for (const [name, value] of Object.entries(extraFiles)) {
    writeFileDurably(join(next, name), JSON.stringify(value));
  }
  // Written last: a `.next` folder with state.json holds a whole checkpoint.
  writeFileDurably(join(next, STATE_FILE), JSON.stringify(state, null, 2));
  syncFolder(next);
  if (existsSync(dir)) {
    rmSync(prev, { recursive: true, force: true });
    renameSync(dir, prev);
  }
  renameSync(next, dir);
  syncFolder(dirname(dir));
  rmSync(prev, { recursive: true, force: true });
}

export async function loadCheckpoint<State>(
  dir: string,
): Promise<{ model: tfl.LayersModel; state: State }> {
  const found = recoverCheckpoint(dir);
  if (found === 'none') {
    throw new CheckpointError(
      dir,
      `does not exist: expected ${FILES.join(', ')} there. Start without resuming, or point at the folder of the run to continue.`,
    );
  }
  if (found !== 'complete') {
    throw new CheckpointError(
      join(dir, found.missing[0] as string),
      `is missing (the checkpoint folder holds ${FILES.filter((f) => !found.missing.includes(f)).join(', ') || 'none of its files'}): it was not written by the trainer, or files were removed.`,
    );
  }
  const statePath = join(dir, STATE_FILE);
  let state: State;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as State;
  } catch (error) {
    throw new CheckpointError(
      statePath,
      `is not valid JSON (${(error as Error).message}): the file is truncated or was edited.`,
    );
  }
  const model = await loadSavedModel(dir);
  return { model, state };
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
