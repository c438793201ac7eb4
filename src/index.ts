/**
 * tfjs-sam: Sharpness-Aware Minimization and its family for TensorFlow.js.
 * (SAM here is the optimizer of Foret et al. 2021, not "Segment Anything".)
 */
export { SAM, sam, asam } from './core/sam.js';
export type {
  SamOptions,
  RhoSchedule,
  SkippedStep,
  NonFinitePolicy,
  AdaptiveScope,
} from './core/sam.js';
export type { NamedTensor } from './util/types.js';
export { AdamW, adamw } from './optimizers/adamw.js';
export type { AdamWOptions } from './optimizers/adamw.js';
export {
  getLearningRate,
  setLearningRate,
  serializeOptimizer,
  deserializeOptimizer,
  disposeOptimizer,
} from './optimizers/registry.js';
export {
  constantSchedule,
  stepSchedule,
  cosineSchedule,
  linearWarmup,
} from './schedules/learning-rate.js';
export type {
  LearningRateSchedule,
  StepScheduleOptions,
  CosineScheduleOptions,
  WarmupOptions,
} from './schedules/learning-rate.js';
export { learningRateScheduler, LearningRateScheduler } from './schedules/callback.js';
export type { SchedulerOptions } from './schedules/callback.js';
export * as treeMath from './math/tree.js';
export { samPerturbation, adaptivePerturbation, isScaleLikeVariable } from './math/perturbation.js';
export * from './variants/index.js';
export {
  selectBackend,
  useFastestBackend,
  registerWasmTrainingKernels,
  type BackendChoice,
  type SelectBackendOptions,
} from './backend/index.js';
