import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { sam, SAM } from '../core/sam.js';
import { adamw } from '../optimizers/adamw.js';
import {
  fileSystem,
  loadSavedModel,
  ModelFileError,
  readModelFiles,
  registerFileSystemRouters,
  saveModelFiles,
} from './index.js';

const folder = mkdtempSync(join(tmpdir(), 'tfjs-sam-file-io-'));
test.after(() => rmSync(folder, { recursive: true, force: true }));
let folders = 0;
const fresh = () => join(folder, `m${++folders}`);

function model(seed: number): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 16,
        inputShape: [6],
        activation: 'relu',
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
}

function data(): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.randomNormal([48, 6], 0, 1, 'float32', 3);
  const labels = tf.tensor1d(
    Array.from({ length: 48 }, (_, i) => (i * 7) % 3),
    'int32',
  );
  const y = tf.oneHot(labels, 3);
  labels.dispose();
  return { x, y };
}

const values = (m: tfl.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

for (const backend of TEST_BACKENDS) {
  for (const [label, makeBase] of [
    ['momentum', () => tf.train.momentum(0.05, 0.9)],
    ['AdamW', () => adamw({ learningRate: 0.01, weightDecay: 0.1 })],
  ] as Array<[string, () => tf.Optimizer]>) {
    test(`${backend}: model.save('file://…') and tf.loadLayersModel('file://…/model.json') resume SAM over ${label} bit-identically`, async () => {
      await useBackend(backend);
      const { x, y } = data();
      const reference = model(1);
      const interrupted = model(1);
      for (const m of [reference, interrupted]) {
        m.compile({ optimizer: sam(makeBase(), { rho: 0.1 }), loss: 'categoricalCrossentropy' });
      }
      await reference.fit(x, y, { epochs: 6, batchSize: 12, shuffle: false, verbose: 0 });
      await interrupted.fit(x, y, { epochs: 4, batchSize: 12, shuffle: false, verbose: 0 });
      const dir = fresh();
      await interrupted.save(`file://${dir}`, { includeOptimizer: true });
      assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin'], 'no temporaries');
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
        weightsManifest: Array<{ paths: string[]; weights: Array<{ group?: string }> }>;
        trainingConfig?: unknown;
      };
      assert.deepEqual(json.weightsManifest[0]?.paths, ['weights.bin'], "tfjs-node's layout");
      assert.ok(
        json.weightsManifest[0]?.weights.some((w) => w.group === 'optimizer'),
        "the optimizer's state is in the manifest",
      );
      (interrupted.optimizer as SAM).dispose();
      interrupted.dispose();

      const resumed = await tfl.loadLayersModel(`file://${join(dir, 'model.json')}`);
      assert.ok(resumed.optimizer instanceof SAM, 'SAM comes back from model.json');
      assert.equal((resumed.optimizer as SAM).iterations, 16);
      await resumed.fit(x, y, { epochs: 2, batchSize: 12, shuffle: false, verbose: 0 });
      assert.deepEqual(values(resumed), values(reference));
      for (const m of [resumed, reference]) {
        (m.optimizer as SAM).dispose();
        m.dispose();
      }
      tf.dispose([x, y]);
    });
  }
}

test("the files are tfjs-node's: its loader's steps (manifest paths beside model.json) read them", async () => {
  await useBackend('cpu');
  const saved = model(5);
  const dir = fresh();
  await saved.save(`file://${dir}`);
  // tfjs-node's NodeFileSystem.load: model.json's fields, weights from the manifest's paths.
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const files = manifest.flatMap((group) => group.paths.map((p) => readFileSync(join(dir, p))));
    const bytes = Buffer.concat(files);
    return [
      manifest.flatMap((group) => group.weights),
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    ];
  });
  const loaded = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  assert.deepEqual(values(loaded), values(saved));

  // And a model.json as tfjs-node writes it (no integrity record) loads here.
  delete (json as { integrity?: unknown }).integrity;
  const nodeDir = fresh();
  mkdirSync(nodeDir);
  writeFileSync(join(nodeDir, 'model.json'), JSON.stringify(json));
  copyFileSync(join(dir, 'weights.bin'), join(nodeDir, 'weights.bin'));
  const fromNode = await loadSavedModel(nodeDir);
  assert.deepEqual(values(fromNode), values(saved));
  for (const m of [saved, loaded, fromNode]) m.dispose();
});

test("the file:// routers stand aside when another router (tfjs-node's) handles the URL, and register once", async () => {
  await useBackend('cpu');
  registerFileSystemRouters();
  registerFileSystemRouters();
  const url = `file://${join(folder, 'routed')}`;
  assert.equal(tf.io.getSaveHandlers(url).length, 1, 'registered once');
  assert.equal(tf.io.getLoadHandlers(`${url}/model.json`).length, 1);

  const claimed: string[] = [];
  const other = (u: string | string[]) =>
    typeof u === 'string' && u.includes('other-file-handler')
      ? {
          save: async () => {
            claimed.push(u);
            return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
          },
        }
      : null;
  tf.io.registerSaveRouter(other as (u: string | string[]) => tf.io.IOHandler);
  const m = model(9);
  const otherUrl = `file://${join(folder, 'other-file-handler')}`;
  await m.save(otherUrl);
  assert.deepEqual(claimed, [otherUrl], "the other library's handler saved it, alone");
  assert.equal(existsSync(join(folder, 'other-file-handler')), false);
  m.dispose();
});

/** A model saved to a fresh folder; returns the folder. */
async function savedFolder(seed: number): Promise<string> {
  const m = model(seed);
  m.compile({ optimizer: sam(tf.train.sgd(0.1)), loss: 'categoricalCrossentropy' });
  const dir = fresh();
  await m.save(fileSystem(dir), { includeOptimizer: true });
  (m.optimizer as SAM).dispose();
  m.dispose();
  return dir;
}

test('a save interrupted between its two renames is completed when loading; mismatched files are refused', async () => {
  await useBackend('cpu');
  const dir = await savedFolder(11);
  const newer = await savedFolder(21);
  // The state a save of `newer` into `dir` leaves when killed after renaming the weights.
  copyFileSync(join(newer, 'weights.bin'), join(dir, 'weights.bin.tmp'));
  copyFileSync(join(newer, 'model.json'), join(dir, 'model.json.tmp'));
  renameSync(join(dir, 'weights.bin.tmp'), join(dir, 'weights.bin'));
  const completed = await loadSavedModel(dir);
  const expected = await loadSavedModel(newer);
  assert.deepEqual(values(completed), values(expected), 'the newer save, completed');
  assert.deepEqual(readdirSync(dir).sort(), ['model.json', 'weights.bin']);

  // Weights that match neither model.json nor a pending one.
  copyFileSync(join(await savedFolder(31), 'weights.bin'), join(dir, 'weights.bin'));
  await assert.rejects(
    loadSavedModel(dir),
    (error: unknown) =>
      error instanceof ModelFileError &&
      error.file === join(dir, 'weights.bin') &&
      /does not match model\.json, which records sha256-.*interrupted or one of the two files was replaced/.test(
        error.message,
      ),
  );
  for (const m of [completed, expected]) {
    (m.optimizer as SAM).dispose();
    m.dispose();
  }
});

test('a truncated, missing or unreadable file is named with what was expected', async () => {
  await useBackend('cpu');
  const dir = await savedFolder(41);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    integrity?: unknown;
  };
  delete json.integrity;
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  truncateSync(join(dir, 'weights.bin'), 100);
  assert.throws(
    () => readModelFiles(dir),
    (error: unknown) =>
      error instanceof ModelFileError &&
      error.file === join(dir, 'weights.bin') &&
      /has 100 bytes, but model\.json describes \d+ weight tensors of \d+ bytes: the file is truncated/.test(
        error.message,
      ),
  );
  rmSync(join(dir, 'weights.bin'));
  assert.throws(
    () => readModelFiles(join(dir, 'model.json')),
    /weights\.bin: does not exist, but model\.json lists it/,
  );
  writeFileSync(join(dir, 'model.json'), '{"modelTopology": {"class_na');
  assert.throws(() => readModelFiles(dir), /model\.json: is not valid JSON .*truncated/);
  assert.throws(
    () => readModelFiles(join(folder, 'nowhere')),
    /nowhere: does not exist; give the model\.json/,
  );
  writeFileSync(join(folder, 'a-file'), 'x');
  assert.throws(
    () => saveModelFiles(join(folder, 'a-file'), { modelTopology: {} }),
    /a-file: exists and is a file; a model is saved into a folder/,
  );
});
