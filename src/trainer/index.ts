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
export {
  buildOptimizer,
  knownOptimizerNames,
  parseOptimizerList,
  parseOptimizerSpec,
  passesPerStep,
  type CommonHyperparameters,
  type OptimizerSpec,
} from '../toolkit/optimizer-spec.js';
