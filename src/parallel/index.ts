/** Data-parallel training over worker threads (plain optimizers; SAM, ASAM, SAM-ON as m-sharpness). */
export { createDataParallel } from './data-parallel.js';
export type { DataParallelOptions, DataParallelTrainer } from './data-parallel-api.js';
export type { ModelSpec, ReplicaBackend } from './protocol.js';
export type {
  ModelName,
  ModelOptionsByName,
  LstmClassifierOptions,
  MlpActivation,
  MlpOptions,
  ResNet20Options,
  SmallCnnOptions,
  TransformerClassifierOptions,
  WideResNetOptions,
} from '../models/index.js';
export { DATA_PARALLEL_LOSSES, type DataParallelLoss } from './replica-step.js';
export { splitBatch, type BatchSlice } from './split.js';
