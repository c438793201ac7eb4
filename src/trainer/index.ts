/** The trainer the CLI runs on, for code (Node: checkpoints are files). */
export {
  train,
  evaluate,
  type BatchProgress,
  type EpochRecord,
  type TrainerData,
  type TrainerOptions,
  type TrainResult,
} from './trainer.js';
export { batchCount } from '../data/batches.js';
export { CheckpointError } from './checkpoint.js';
export { toModelInput } from './model-input.js';
export {
  buildOptimizer,
  knownOptimizerNames,
  parseOptimizerList,
  parseOptimizerSpec,
  passesPerStep,
  type CommonHyperparameters,
  type OptimizerSpec,
} from '../toolkit/optimizer-spec.js';
export type { OptionValue } from '../toolkit/optimizer-spec.js';
export type { ImageDataset } from '../data/types.js';
export type { AugmentOptions } from '../data/augment.js';
export type { LearningRateSchedule } from '../schedules/learning-rate.js';
export type {
  ModelSpec,
  ModelName,
  ModelOptionsByName,
  LstmClassifierOptions,
  MlpActivation,
  MlpOptions,
  ResNet20Options,
  SmallCnnOptions,
  TransformerClassifierOptions,
  WideResNetOptions,
} from '../parallel/index.js';
