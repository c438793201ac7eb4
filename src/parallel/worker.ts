/**
 * A replica worker: builds the zoo model named in `workerData` on its own backend (wasm with this
 * repo's training kernels by default), then, for each step message, loads w from the shared weights,
 * computes its slice's gradient (at its own w + ε_j for SAM) and writes it to its output buffer. A
 * two-point step (SAMPa) it replicates instead: two-point-replica.ts.
 * Errors are left uncaught: the main thread receives them, with their stack, as the worker's 'error'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select.js';
import { buildModel } from '../models/index.js';
import { modelLayout, readVariables, tensorFrom } from './layout.js';
import type { FromWorker, StepMessage, ToWorker, WorkerInit } from './protocol.js';
import { computeSliceGradient, type SliceResult } from './replica-step.js';
import { TwoPointReplica } from './two-point-replica.js';

async function serve(init: WorkerInit): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('the data-parallel replica must run in a worker thread.');
  await selectBackend({ prefer: init.backend, log: () => undefined });
  const model = buildModel(init.model.name, init.model.options ?? {});
  const layout = modelLayout(model);
  const { expected } = init;
  const variables = layout.trainable.length + layout.state.length;
  if (
    layout.trainableSize !== expected.trainableSize ||
    layout.totalSize !== expected.totalSize ||
    variables !== expected.variables
  ) {
    throw new Error(
      `replica ${init.index}: the model built in the worker has ${variables} variables / ${layout.totalSize} floats, ` +
        `the main model ${expected.variables} / ${expected.totalSize}; both must be built from the same spec.`,
    );
  }
  const weights = new Float32Array(init.weights);
  const output = new Float32Array(init.output);
  const post = (message: FromWorker) => port.postMessage(message);

  const twoPoint =
    init.twoPoint === null
      ? null
      : new TwoPointReplica(model, layout, init.loss, init.twoPoint, weights, output);

  const step = (message: StepMessage) => {
    const { replicated } = message;
    if (replicated !== undefined && twoPoint === null) {
      throw new Error(
        `replica ${init.index}: a replicated step, but the worker was not started for one.`,
      );
    }
    // A replicated step starts from the replica's own x (loaded from the weights only to resync).
    if (replicated === undefined) readVariables(layout.trainable, layout.trainableSlots, weights);
    readVariables(layout.state, layout.stateSlots, weights);
    const input = new Float32Array(message.input);
    const xsSize = message.xsShape.reduce((a, b) => a * b, 1);
    const ysSize = message.ysShape.reduce((a, b) => a * b, 1);
    // From views of the input buffer: a fresh copy of it costs up to 3 ms a step (new memory).
    const xs =
      message.xsDtype === 'int32'
        ? tf.tensor(Int32Array.from(input.subarray(0, xsSize)), message.xsShape, 'int32')
        : tensorFrom(input, 0, xsSize, message.xsShape);
    const ys = tensorFrom(input, xsSize, ysSize, message.ysShape);
    let result: SliceResult;
    try {
      result =
        replicated !== undefined && twoPoint !== null
          ? twoPoint.gradient(message, replicated, xs, ys)
          : computeSliceGradient(
              model,
              layout,
              xs,
              ys,
              init.loss,
              init.perturbation,
              message.rho,
              output,
            );
    } finally {
      tf.dispose([xs, ys]);
    }
    post({ type: 'done', id: message.id, ...result, numTensors: tf.memory().numTensors });
  };

  // The main thread ends a worker with terminate(); it sends steps, and gradients of replicated steps.
  port.on('message', (message: ToWorker) => {
    if (message.type === 'step') step(message);
    else if (twoPoint === null) {
      throw new Error(
        `replica ${init.index}: a '${message.type}' message for a two-point step it was not started for.`,
      );
    } else twoPoint.finish(message);
  });
  post({ type: 'ready', numTensors: tf.memory().numTensors });
}

// No top-level await, so that the CommonJS build can hold this module: a failure in serve() is an
// unhandled rejection, which ends the worker with that error (the pool's 'error' event).
void serve(workerData as WorkerInit);
