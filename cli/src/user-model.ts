/**
 * `--model path/to/model.json`: the user's own tfjs-layers model. With weights (a weightsManifest
 * and its files, as `model.save` writes) every seed starts from them; without (a topology only:
 * `model.toJSON()`, or a model.json without weights) every seed gets a fresh initialization, its
 * random initializers seeded from the run's seed.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as tfl from '@tensorflow/tfjs-layers';
import { readModelFiles, fileSystem } from 'tfjs-sam/node';
import { deriveSeed } from 'tfjs-sam/toolkit';

export interface UserModel {
  path: string;
  /** One sample's shape, without the batch dimension. */
  inputShape: number[];
  /** Units of the softmax output: the classes. */
  classes: number;
  hasWeights: boolean;
  build: (seed: number) => Promise<tfl.LayersModel>;
}

/** A --model value that names a file rather than a zoo model. */
export function isModelFile(value: string): boolean {
  return value.endsWith('.json') || value.includes('/') || existsSync(value);
}

const RANDOM_INITIALIZERS = new Set([
  'RandomNormal',
  'RandomUniform',
  'TruncatedNormal',
  'VarianceScaling',
  'GlorotNormal',
  'GlorotUniform',
  'HeNormal',
  'HeUniform',
  'LeCunNormal',
  'LeCunUniform',
  'Orthogonal',
]);

/** A copy of `topology` whose random initializers each get a seed derived from `seed`. */
export function seededTopology(topology: unknown, seed: number): unknown {
  let next = 0;
  const visit = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => visit(item, ''));
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const copy = Object.fromEntries(Object.entries(object).map(([k, v]) => [k, visit(v, k)]));
    const config = copy['config'];
    if (
      /initializer$/i.test(key) &&
      typeof copy['class_name'] === 'string' &&
      RANDOM_INITIALIZERS.has(copy['class_name']) &&
      config !== null &&
      typeof config === 'object'
    ) {
      copy['config'] = { ...(config as object), seed: deriveSeed(seed, next++) };
    }
    return copy;
  };
  return visit(topology, '');
}

function problem(path: string, text: string): Error {
  return new Error(`--model ${path}: ${text}`);
}

/** The output layer's activation is a softmax (the CLI trains with categorical cross-entropy). */
function endsInSoftmax(model: tfl.LayersModel): boolean {
  const layer = model.outputs[0]?.sourceLayer;
  if (layer === undefined) return false;
  const config = layer.getConfig() as { activation?: unknown };
  return layer.getClassName() === 'Softmax' || config.activation === 'softmax';
}

export async function inspectUserModel(path: string): Promise<UserModel> {
  if (!existsSync(path)) {
    throw problem(
      path,
      'does not exist; give a zoo model name or the model.json of a tfjs-layers model.',
    );
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw problem(path, `is not valid JSON (${(error as Error).message}).`);
  }
  const topology = 'modelTopology' in json ? json['modelTopology'] : json;
  if (topology === null || typeof topology !== 'object' || !('class_name' in topology)) {
    throw problem(
      path,
      'holds no model topology (a class_name and config, as model.toJSON() or model.save() write).',
    );
  }
  const hasWeights = Array.isArray(json['weightsManifest']);
  if (hasWeights) readModelFiles(path); // names a missing or truncated weights file now
  const build = async (seed: number): Promise<tfl.LayersModel> => {
    try {
      return hasWeights
        ? await tfl.loadLayersModel(fileSystem(path))
        : await tfl.models.modelFromJSON({
            modelTopology: seededTopology(topology, seed) as object,
          } as tfl.ModelAndWeightsConfig);
    } catch (error) {
      throw problem(
        path,
        `tfjs-layers cannot build it: ${(error as Error).message} (layers of your own must be registered with tf.serialization, which the CLI cannot do).`,
      );
    }
  };
  const model = await build(1);
  try {
    if (model.inputs.length !== 1 || model.outputs.length !== 1) {
      throw problem(
        path,
        `has ${model.inputs.length} inputs and ${model.outputs.length} outputs; the CLI trains models with one input and one output.`,
      );
    }
    const input = model.inputs[0]?.shape.slice(1) ?? [];
    if (input.some((dim) => dim == null)) {
      throw problem(
        path,
        `takes inputs of shape [${input.map((d) => d ?? 'null').join(', ')}]; the CLI feeds samples of one fixed shape.`,
      );
    }
    const output = model.outputs[0]?.shape ?? [];
    if (output.length !== 2 || output[1] == null) {
      throw problem(
        path,
        `outputs shape [${output.map((d) => d ?? 'null').join(', ')}]; expected [null, classes], a classifier.`,
      );
    }
    if (!endsInSoftmax(model)) {
      throw problem(
        path,
        `its output layer (${model.outputs[0]?.sourceLayer.name}) has no softmax; the CLI trains with categorical cross-entropy on probabilities: end the model with activation: 'softmax'.`,
      );
    }
    return {
      path,
      inputShape: input as number[],
      classes: output[1],
      hasWeights,
      build,
    };
  } finally {
    model.dispose();
  }
}
