/** The checks a data-parallel trainer makes of its options and of each batch. */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DATA_PARALLEL_LOSSES } from './replica-step.js';

const MAX_WORKERS = 64;

/** The options `createDataParallel` checks before it builds anything. */
interface CheckedOptions {
  workers: number;
  loss?: string;
  workerBackend?: string;
  model?: { name?: unknown } | null;
}

export function checkOptions(options: CheckedOptions): void {
  const workers = options.workers;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new Error(
      `createDataParallel: 'workers' is ${String(workers)}; expected an integer from 1 to ${MAX_WORKERS} ` +
        '(worker threads, each holding a model replica; the number of cores is a good choice).',
    );
  }
  const loss = options.loss ?? 'categoricalCrossentropy';
  if (!(DATA_PARALLEL_LOSSES as readonly string[]).includes(loss)) {
    throw new Error(
      `createDataParallel: loss '${String(loss)}' is not supported; use ${DATA_PARALLEL_LOSSES.join(' or ')}.`,
    );
  }
  const backend = options.workerBackend ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'cpu') {
    throw new Error(
      `createDataParallel: workerBackend '${String(backend)}' is not supported; use 'wasm' (fastest) or 'cpu'.`,
    );
  }
  if (options.model == null || typeof options.model.name !== 'string') {
    throw new Error(
      "createDataParallel: 'model' must be a zoo spec such as {name: 'mlp', options: {hidden: [256]}}, so that every worker can build the same architecture.",
    );
  }
}

/** Returns the number of rows; throws when xs and ys do not fit the model. */
export function checkBatch(model: tfl.LayersModel, xs: tf.Tensor, ys: tf.Tensor): number {
  if (!(xs instanceof tf.Tensor) || !(ys instanceof tf.Tensor)) {
    throw new Error('trainOnBatch(xs, ys): expected two tensors (inputs and targets).');
  }
  const rows = xs.shape[0];
  if (rows === undefined || rows < 1 || ys.shape[0] !== rows) {
    throw new Error(
      `trainOnBatch: xs has shape [${xs.shape}] and ys [${ys.shape}]; both need the same number of rows (≥ 1) in the first dimension.`,
    );
  }
  const expected = (model.inputs[0] as tfl.SymbolicTensor).shape.slice(1);
  const given = xs.shape.slice(1);
  if (
    given.length !== expected.length ||
    given.some((d, i) => expected[i] !== null && expected[i] !== d)
  ) {
    throw new Error(
      `trainOnBatch: xs has shape [${xs.shape}], but the model takes [batch, ${expected.join(', ')}].`,
    );
  }
  if (xs.dtype !== 'float32' && xs.dtype !== 'int32') {
    throw new Error(`trainOnBatch: xs is ${xs.dtype}; expected float32 (or int32 token ids).`);
  }
  return rows;
}
