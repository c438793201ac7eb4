/**
 * What the main thread and a replica worker tell each other. Weights, inputs and gradients travel
 * through SharedArrayBuffers; messages only carry control and a few numbers.
 */
import type { ModelName, ModelOptionsByName } from '../models/index.js';
import type { PerturbationPlan } from '../math/perturbation.js';
import type { DataParallelLoss } from './replica-step.js';

/** A model of the zoo (src/models/index.ts `buildModel`), which every worker builds again. */
export type ModelSpec = {
  [N in ModelName]: { name: N; options?: ModelOptionsByName[N] };
}[ModelName];

export type ReplicaBackend = 'wasm' | 'cpu';

/** `workerData` of a replica worker. */
export interface WorkerInit {
  index: number;
  model: ModelSpec;
  loss: DataParallelLoss;
  backend: ReplicaBackend;
  /** Float32 weights then non-trainable state at w (written by the main thread, read by all). */
  weights: SharedArrayBuffer;
  /** Float32 slice gradient then non-trainable state after the slice's pass (this worker's own). */
  output: SharedArrayBuffer;
  perturbation: PerturbationPlan | null;
  /** The main model's layout, which the worker's replica must reproduce. */
  expected: { trainableSize: number; totalSize: number; variables: number };
}

export interface StepMessage {
  type: 'step';
  id: number;
  /** Float32: the slice's inputs (row-major), then its targets. */
  input: SharedArrayBuffer;
  xsShape: number[];
  xsDtype: 'float32' | 'int32';
  ysShape: number[];
  /** ρ of this step (SAM); ignored for plain optimizers. */
  rho: number;
}

export type ToWorker = StepMessage;

export type FromWorker =
  | { type: 'ready'; numTensors: number }
  | { type: 'done'; id: number; loss: number; accuracy: number; numTensors: number };
