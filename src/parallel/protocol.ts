/**
 * What the main thread and a replica worker tell each other. Weights, inputs and gradients travel
 * through SharedArrayBuffers; messages only carry control and a few numbers.
 */
import type { ModelName, ModelOptionsByName } from '../models/index.js';
import type { SgdStepAttrs } from '../math/fused-ops.js';
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
  /** The buffers of a two-point step (SAMPa) that the worker replicates; null for other steps. */
  twoPoint: TwoPointBuffers | null;
  /** The main model's layout, which the worker's replica must reproduce. */
  expected: { trainableSize: number; totalSize: number; variables: number };
}

/** Float32, one value per trainable element each, in the layout's order. */
export interface TwoPointBuffers {
  /** The stored gradient s, written by the main thread when the replica must resynchronize. */
  stored: SharedArrayBuffer;
  /** The base's momentum buffers, likewise. */
  accumulations: SharedArrayBuffer;
  /** The main thread's gradient at y, in the buffer of the step's parity (written every step). */
  mainGradients: [SharedArrayBuffer, SharedArrayBuffer];
}

/** Float32 views of a TwoPointBuffers, as each thread reads and writes them. */
export interface TwoPointViews {
  stored: Float32Array;
  accumulations: Float32Array;
  mainGradients: [Float32Array, Float32Array];
}

export function twoPointViews(shared: TwoPointBuffers): TwoPointViews {
  return {
    stored: new Float32Array(shared.stored),
    accumulations: new Float32Array(shared.accumulations),
    mainGradients: [
      new Float32Array(shared.mainGradients[0]),
      new Float32Array(shared.mainGradients[1]),
    ],
  };
}

/** A two-point step the worker replicates (see ReplicaStep in src/core/method.ts). */
export interface ReplicatedStep {
  /** Load x (weights buffer), s and the momentum buffers first: the replica's copy is stale. */
  sync: boolean;
  rho: number;
  epsilon: number;
  step: SgdStepAttrs;
  momentum: boolean;
  parity: 0 | 1;
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
  /**
   * A replicated two-point step: the gradient at x̃ = x + ρ/(‖s‖ + ϵ)·s from the replica's own
   * x and s (not the weights buffer), kept until the main thread's gradient arrives.
   */
  replicated?: ReplicatedStep;
}

/** The main thread's gradient of a replicated step is in `mainGradients[parity]`: take the step. */
export interface GradientMessage {
  type: 'gradient';
  id: number;
  /** The main thread's loss at y (its finiteness decides the step on both sides). */
  loss: number;
}

export type ToWorker = StepMessage | GradientMessage;

export type FromWorker =
  | { type: 'ready'; numTensors: number }
  | { type: 'done'; id: number; loss: number; accuracy: number; numTensors: number };
