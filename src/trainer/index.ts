/** The trainer the CLI runs on, for code (Node: checkpoints are files). */
export {
  train,
  evaluate,
  TOKENIZER_FILE,
  type BatchProgress,
  type EpochRecord,
  type Evaluation,
  type TrainerData,
  type TrainerOptions,
  type TrainResult,
} from './trainer.js';
export { batchCount } from '../data/batches.js';
export { CheckpointError, readCheckpointJson } from './checkpoint.js';
export { toModelInput } from './model-input.js';
export {
  successiveHalving,
  trainerRounds,
  validationAccuracy,
  type HalvingOptions,
  type TuneCandidate,
  type TuneResult,
  type TuneTrial,
} from './tune.js';
export { objectiveFor, tokenCrossEntropy, type Objective } from './objective.js';
export {
  dataKind,
  datasetKind,
  modelForData,
  TRAINING_DEFAULTS,
  type DataKind,
  type ModelForData,
  type TrainingDefaults,
} from './workload.js';
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
export type { Examples, ExamplesTask } from '../data/examples.js';
export type { NextTokenDataset, TokenDataset } from '../data/text/types.js';
export type { Tokenizer } from '../data/text/tokenizer.js';
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
