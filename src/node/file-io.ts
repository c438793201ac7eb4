/**
 * Models on disk in Node without tfjs-node: `model.json` + `weights.bin`, tfjs-node's layout (a
 * `weightsManifest` naming `weights.bin`), so either library reads what the other wrote.
 *
 * Saving writes `weights.bin.tmp` and `model.json.tmp` (each flushed to disk), then renames the
 * weights and then the model over the old files: a save that is interrupted leaves the previous
 * pair intact, or — between the two renames — new weights next to the old model.json and the
 * complete new `model.json.tmp`. `model.json` records the SHA-256 of `weights.bin` (an extra key,
 * `integrity`, that TensorFlow.js ignores), so loading finds that case and completes the save
 * (renames `model.json.tmp`), and refuses weights that match neither. Loading also checks the size
 * of the weights against the manifest, so a truncated file is named instead of failing inside
 * tfjs with a count of values.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
const PENDING = '.tmp';
const FILE_SCHEME = 'file://';

/** A model file that is missing, unreadable, truncated or does not match its model.json. */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** model.json as written here: tfjs' ModelJSON plus the digest of each weights file. */
interface SavedModelJson extends tf.io.ModelJSON {
  integrity?: Record<string, string>;
}

/** Writes `data` to `path` and flushes it to the disk before returning. */
export function writeFileDurably(path: string, data: string | Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let offset = 0; offset < bytes.length;) {
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Flushes a folder's entries (renames, new files); a no-op where folders cannot be opened. */
export function syncFolder(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) refuse fsync on a folder; renames are still atomic there.
  } finally {
    closeSync(fd);
  }
}

function sha256(bytes: Uint8Array): string {
  return `sha256-${createHash('sha256').update(bytes).digest('base64')}`;
}

function weightBytes(artifacts: tf.io.ModelArtifacts): Uint8Array {
  const data = artifacts.weightData;
  if (data === undefined) return new Uint8Array(0);
  const buffers = Array.isArray(data) ? data : [data];
  return Buffer.concat(buffers.map((buffer) => new Uint8Array(buffer)));
}

/** Writes `artifacts` as `dir/model.json` + `dir/weights.bin` (see the module comment). */
export function saveModelFiles(dir: string, artifacts: tf.io.ModelArtifacts): tf.io.SaveResult {
  if (artifacts.modelTopology instanceof ArrayBuffer) {
    throw new Error(
      `saving to '${dir}': a binary (GraphDef) model topology cannot be written as model.json; save a tf.LayersModel.`,
    );
  }
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ModelFileError(
      dir,
      'exists and is a file; a model is saved into a folder (model.json + weights.bin). Choose a folder path.',
    );
  }
  mkdirSync(dir, { recursive: true });
  const weights = weightBytes(artifacts);
  const modelJson: SavedModelJson = {
    modelTopology: artifacts.modelTopology as object,
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
    format: artifacts.format as string,
    generatedBy: artifacts.generatedBy as string,
    convertedBy: artifacts.convertedBy ?? null,
  };
  if (artifacts.trainingConfig != null) modelJson.trainingConfig = artifacts.trainingConfig;
  if (artifacts.signature != null) modelJson.signature = artifacts.signature;
  if (artifacts.userDefinedMetadata != null) {
    modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
  }
  modelJson.integrity = { [WEIGHTS_FILE]: sha256(weights) };
  const modelPath = join(dir, MODEL_FILE);
  const weightsPath = join(dir, WEIGHTS_FILE);
  writeFileDurably(weightsPath + PENDING, weights);
  writeFileDurably(modelPath + PENDING, JSON.stringify(modelJson));
  renameSync(weightsPath + PENDING, weightsPath);
  renameSync(modelPath + PENDING, modelPath);
  syncFolder(dir);
  return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
}

function readModelJson(path: string): SavedModelJson {
  if (!existsSync(path)) {
    throw new ModelFileError(
      path,
      'does not exist; give the model.json of a saved model (or the folder that holds it).',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelFileError(
      path,
      `is not valid JSON (${(error as Error).message}): the file is truncated or is not a model.json. Save the model again.`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || !('modelTopology' in parsed)) {
    throw new ModelFileError(
      path,
      'has no modelTopology: it is not the model.json of a TensorFlow.js layers model.',
    );
  }
  const json = parsed as SavedModelJson & { weightSpecs?: tf.io.WeightsManifestEntry[] };
  if (json.weightsManifest === undefined) {
    // tfjs-sam 0.1's checkpoints: the weight specs inline, the weights in weights.bin.
    json.weightsManifest = [{ paths: [WEIGHTS_FILE], weights: json.weightSpecs ?? [] }];
    delete json.weightSpecs;
  }
  return json;
}

const BYTES_PER_VALUE: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/** The bytes a manifest's weights take, or null when a weight's size is not fixed (strings). */
export function manifestBytes(specs: readonly tf.io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const size = BYTES_PER_VALUE[spec.quantization?.dtype ?? spec.dtype];
    if (size === undefined) return null;
    total += spec.shape.reduce((product, dim) => product * dim, 1) * size;
  }
  return total;
}

/** The weights files of a manifest, read; checked against `integrity` when it is recorded. */
function readWeightFiles(
  modelPath: string,
  json: SavedModelJson,
): { data: Uint8Array; problem: string | null } {
  const dir = dirname(modelPath);
  const parts: Uint8Array[] = [];
  let problem: string | null = null;
  for (const group of json.weightsManifest) {
    for (const name of group.paths) {
      const file = join(dir, name);
      if (!existsSync(file)) {
        throw new ModelFileError(
          file,
          `does not exist, but ${basename(modelPath)} lists it in its weightsManifest: copy the whole model folder, or save the model again.`,
        );
      }
      const bytes = readFileSync(file);
      const expected = json.integrity?.[name];
      if (expected !== undefined && sha256(bytes) !== expected && problem === null) {
        problem = `does not match ${basename(modelPath)}, which records ${expected} for it: the save that wrote them was interrupted or one of the two files was replaced. Save the model again, or use an intact copy.`;
      }
      parts.push(bytes);
    }
  }
  return { data: Buffer.concat(parts), problem };
}

/**
 * The artifacts of the model saved at `path` (its model.json, or the folder holding it), checked:
 * readable JSON, weights files present, their size as the manifest says, their digest as recorded.
 */
export function readModelFiles(path: string): tf.io.ModelArtifacts {
  const resolved = resolve(path);
  const modelPath =
    existsSync(resolved) && statSync(resolved).isDirectory()
      ? join(resolved, MODEL_FILE)
      : resolved;
  let json = readModelJson(modelPath);
  let weights = readWeightFiles(modelPath, json);
  if (weights.problem !== null && existsSync(modelPath + PENDING)) {
    // Interrupted between the two renames: the new weights are in place, the new model.json is
    // complete beside them. Finish the save if they match.
    let pending: SavedModelJson | null = null;
    try {
      pending = readModelJson(modelPath + PENDING);
    } catch {
      pending = null;
    }
    if (pending !== null && readWeightFiles(modelPath, pending).problem === null) {
      renameSync(modelPath + PENDING, modelPath);
      json = pending;
      weights = readWeightFiles(modelPath, json);
    }
  }
  const weightsName = json.weightsManifest[0]?.paths[0] ?? WEIGHTS_FILE;
  const weightsPath = join(dirname(modelPath), weightsName);
  const specs = json.weightsManifest.flatMap((group) => group.weights);
  const needed = manifestBytes(specs);
  if (needed !== null && needed !== weights.data.length) {
    throw new ModelFileError(
      weightsPath,
      `has ${weights.data.length} bytes, but ${basename(modelPath)} describes ${specs.length} weight tensors of ${needed} bytes: the file is truncated or belongs to another model. Save the model again, or use an intact copy.`,
    );
  }
  if (weights.problem !== null) throw new ModelFileError(weightsPath, weights.problem);
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs: specs,
    weightData: weights.data.buffer.slice(
      weights.data.byteOffset,
      weights.data.byteOffset + weights.data.byteLength,
    ) as ArrayBuffer,
  };
  if (json.format !== undefined) artifacts.format = json.format;
  if (json.generatedBy !== undefined) artifacts.generatedBy = json.generatedBy;
  if (json.convertedBy !== undefined) artifacts.convertedBy = json.convertedBy;
  if (json.trainingConfig != null) artifacts.trainingConfig = json.trainingConfig;
  if (json.signature != null) artifacts.signature = json.signature;
  if (json.userDefinedMetadata != null) artifacts.userDefinedMetadata = json.userDefinedMetadata;
  return artifacts;
}

/**
 * An IOHandler for a path on disk, like tfjs-node's `tf.io.fileSystem`: `save` writes into the
 * folder `path`, `load` reads `path` (a model.json, or the folder holding one).
 */
export function fileSystem(path: string): tf.io.IOHandler {
  return {
    save: async (artifacts) => saveModelFiles(resolve(path), artifacts),
    load: async () => readModelFiles(path),
  };
}

/** `file://dir` → `dir` (as tfjs-node reads it: relative to the working folder unless absolute). */
function fileUrlPath(url: string | string[]): string | null {
  if (Array.isArray(url) || !url.startsWith(FILE_SCHEME)) return null;
  return url.slice(FILE_SCHEME.length);
}

let answering = false;

/**
 * Our router answers a `file://` URL only when no other registered router does (tfjs-node's, for
 * one), whichever was registered first: it asks the registry without itself, then answers.
 */
function router(kind: 'save' | 'load'): (url: string | string[]) => tf.io.IOHandler | null {
  return (url) => {
    const path = fileUrlPath(url);
    if (path === null || answering) return null;
    answering = true;
    try {
      const others = kind === 'save' ? tf.io.getSaveHandlers(url) : tf.io.getLoadHandlers(url);
      if (others.length > 0) return null;
    } finally {
      answering = false;
    }
    return fileSystem(path);
  };
}

const REGISTERED = Symbol.for('tfjs-sam.fileSystemRouters');

/**
 * Registers the `file://` save and load routers with tf.io, once per process (also when two copies
 * of tfjs-sam are loaded). Importing `tfjs-sam/node` calls it. They stand aside for any other
 * router that handles the URL, so tfjs-node's handlers stay in charge where tfjs-node is loaded.
 */
export function registerFileSystemRouters(): void {
  const registry = globalThis as { [REGISTERED]?: boolean };
  if (registry[REGISTERED] === true) return;
  registry[REGISTERED] = true;
  // tf.io's IORouter type says IOHandler, but the registry skips a router that returns null.
  type IORouter = (url: string | string[]) => tf.io.IOHandler;
  tf.io.registerSaveRouter(router('save') as IORouter);
  tf.io.registerLoadRouter(router('load') as IORouter);
}
