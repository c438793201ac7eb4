import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../testing/backends.js';
import { sam, type SAM } from '../core/sam.js';
import { ModelFileError } from '../node/file-io.js';
import {
  CheckpointError,
  loadCheckpoint,
  recoverCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-sam-checkpoint-'));
test.after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

function compiled(seed: number): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 4,
        inputShape: [3],
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
    ],
  });
  model.compile({ optimizer: sam(tf.train.momentum(0.1, 0.9)), loss: 'meanSquaredError' });
  return model;
}

/** Two checkpoints, `old` (epoch 1) and `new` (epoch 2), written by saveCheckpoint. */
async function twoCheckpoints(): Promise<{ dir: string; newer: string }> {
  await useBackend('cpu');
  const dir = join(root, `run${++count}`, 'checkpoint');
  const newer = join(root, `run${count}`, 'newer');
  for (const [path, epoch] of [
    [dir, 1],
    [newer, 2],
  ] as const) {
    const model = compiled(epoch);
    await saveCheckpoint(path, model, { epoch });
    (model.optimizer as SAM).dispose();
    model.dispose();
  }
  return { dir, newer };
}

async function epochOf(dir: string): Promise<number> {
  const { model, state } = await loadCheckpoint<{ epoch: number }>(dir);
  (model.optimizer as SAM).dispose();
  model.dispose();
  return state.epoch;
}

test('a checkpoint is written whole and swapped in: no .next or .prev folder is left', async () => {
  const { dir } = await twoCheckpoints();
  const model = compiled(3);
  await saveCheckpoint(dir, model, { epoch: 3 });
  (model.optimizer as SAM).dispose();
  model.dispose();
  assert.deepEqual(readdirSync(join(dir, '..')).sort(), ['checkpoint', 'newer']);
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'state.json', 'weights.bin']);
  assert.equal(await epochOf(dir), 3);
});

test('killed at any point of a save, the last complete checkpoint is found', async () => {
  // Killed while writing <dir>.next: the old checkpoint stands, the partial one is dropped.
  let { dir, newer } = await twoCheckpoints();
  cpSync(newer, `${dir}.next`, { recursive: true });
  rmSync(join(`${dir}.next`, 'state.json'));
  assert.equal(recoverCheckpoint(dir), 'complete');
  assert.equal(existsSync(`${dir}.next`), false);
  assert.equal(await epochOf(dir), 1);

  // Killed after <dir> → <dir>.prev, before <dir>.next → <dir>: the new one is taken.
  ({ dir, newer } = await twoCheckpoints());
  renameSync(dir, `${dir}.prev`);
  cpSync(newer, `${dir}.next`, { recursive: true });
  assert.equal(recoverCheckpoint(dir), 'complete');
  assert.equal(await epochOf(dir), 2);
  assert.equal(existsSync(`${dir}.prev`), false);

  // Killed after the swap, before <dir>.prev was removed.
  ({ dir, newer } = await twoCheckpoints());
  renameSync(dir, `${dir}.prev`);
  renameSync(newer, dir);
  assert.equal(recoverCheckpoint(dir), 'complete');
  assert.equal(await epochOf(dir), 2);
  assert.equal(existsSync(`${dir}.prev`), false);

  // Only an old checkpoint moved aside, nothing complete beside it: it is put back.
  ({ dir } = await twoCheckpoints());
  renameSync(dir, `${dir}.prev`);
  assert.equal(recoverCheckpoint(dir), 'complete');
  assert.equal(await epochOf(dir), 1);

  assert.equal(recoverCheckpoint(join(root, 'never-written')), 'none');
});

test('a damaged checkpoint is refused, naming the file and what is wrong', async () => {
  let { dir } = await twoCheckpoints();
  rmSync(join(dir, 'weights.bin'));
  assert.deepEqual(recoverCheckpoint(dir), { missing: ['weights.bin'] });
  await assert.rejects(
    loadCheckpoint(dir),
    (error: unknown) =>
      error instanceof CheckpointError &&
      error.file === join(dir, 'weights.bin') &&
      /is missing \(the checkpoint folder holds model\.json, state\.json\)/.test(error.message),
  );

  ({ dir } = await twoCheckpoints());
  writeFileSync(join(dir, 'state.json'), '{"epoch": ');
  await assert.rejects(
    loadCheckpoint(dir),
    (error: unknown) =>
      error instanceof CheckpointError &&
      error.file === join(dir, 'state.json') &&
      /is not valid JSON .*truncated/.test(error.message),
  );

  ({ dir } = await twoCheckpoints());
  const size = readFileSync(join(dir, 'weights.bin')).length;
  truncateSync(join(dir, 'weights.bin'), size - 8);
  await assert.rejects(
    loadCheckpoint(dir),
    (error: unknown) => error instanceof ModelFileError && error.file === join(dir, 'weights.bin'),
  );
});
