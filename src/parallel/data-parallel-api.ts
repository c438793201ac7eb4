/** What a data-parallel trainer takes (`createDataParallel`'s options) and what it gives. */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModelSpec, ReplicaBackend } from './protocol.js';
import type { DataParallelLoss } from './replica-step.js';

export interface DataParallelOptions {
  /** A zoo model, e.g. `{name: 'mlp', options: {hidden: [256], seed: 1}}`; every worker builds it. */
  model: ModelSpec;
  /** Default 'categoricalCrossentropy' (one-hot targets); 'sparseCategoricalCrossentropy' takes class ids. */
  loss?: DataParallelLoss;
  /** Worker threads, each with a replica (≥ 1). */
  workers: number;
  /** A plain tfjs optimizer, or SAM / ASAM / SAM-ON (m-sharpness over the slices). */
  optimizer: tf.Optimizer;
  /**
   * The main thread computes one slice too, on its current tfjs backend, so there are workers + 1
   * slices. Default: when the main thread's backend is the workers' (see defaultMainThreadSlice).
   */
  mainThreadSlice?: boolean;
  /** Backend of the workers (default 'wasm', with this repo's training kernels). */
  workerBackend?: ReplicaBackend;
  /**
   * Train this model, built from the same spec (e.g. loaded from a checkpoint), instead of a new
   * one. It is compiled with `optimizer` unless that already is its optimizer, and is not disposed
   * here.
   */
  mainModel?: tfl.LayersModel;
  /** The worker module (default: worker.js/ts beside this file); for bundlers or wrappers. */
  workerUrl?: URL;
}

export interface DataParallelTrainer {
  /** The main model, holding the authoritative weights: evaluate, predict or save it. */
  readonly model: tfl.LayersModel;
  /** Slices per batch, m for SAM (workers, + 1 with the main thread's slice). */
  readonly slices: number;
  readonly workers: number;
  readonly mainThreadSlice: boolean;
  /** Tensors alive in each worker after its last step (flat over steps: nothing leaks there). */
  readonly workerTensorCounts: readonly number[];
  /** Worker threads still running (0 after dispose). */
  readonly runningWorkers: number;
  /**
   * One step on the batch; returns [loss, accuracy] at w, slice-size-weighted means over slices.
   * A method whose step takes the previous batch too (SAMPa) gets `previous`, or the batch of the
   * trainer's last step when it is left out (this one at the first).
   */
  trainOnBatch(
    xs: tf.Tensor,
    ys: tf.Tensor,
    previous?: { inputs: tf.Tensor; targets: tf.Tensor } | null,
  ): Promise<[number, number]>;
  /** Terminates the workers. The main model stays usable; dispose it yourself. */
  dispose(): Promise<void>;
}
