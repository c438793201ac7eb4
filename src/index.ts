/**
 * tfjs-sam: Sharpness-Aware Minimization and its family for TensorFlow.js.
 * (SAM here is the optimizer of Foret et al. 2021, not "Segment Anything".)
 *
 * What users need (the optimizers, their options, schedules, backends) and what authors of a new
 * method need (the SAM base with its hooks, `StepContext`, `NamedSlots`, option schemas, the
 * registry entry type); the math and the orchestration stay internal.
 */
export { SAM, sam, asam } from './core/sam.js';
export type {
  SamOptions,
  RhoSchedule,
  SkippedStep,
  NonFinitePolicy,
  AdaptiveScope,
  AdaptiveScaling,
  AscentNorm,
  StepContext,
} from './core/sam.js';
export { SAM_OPTIONS } from './core/sam-options.js';
export type { BatchPart, GradientSource, PassGradients } from './core/accumulation.js';
export type { NonFiniteGuard } from './core/non-finite.js';
export type {
  AccumulatedStepping,
  Capabilities,
  DataSelecting,
  MethodDefinition,
  ModelAware,
  MSharpnessStepping,
  PreviousBatchStepping,
  PerExampleLoss,
  ReferenceCase,
  ReferenceReplay,
  ReplicaStep,
  RunContext,
  SharpnessAware,
  TwoPointStepping,
} from './core/method.js';
export type { SgdStepAttrs } from './math/fused-ops.js';
export * from './variants/index.js';
export { WrapperOptimizer } from './optimizers/wrapper.js';
export { NamedSlots } from './optimizers/slots.js';
export { AdamW, adamw } from './optimizers/adamw.js';
export type { AdamWOptions } from './optimizers/adamw.js';
export { WeightDecay, withWeightDecay } from './optimizers/weight-decay.js';
export {
  getLearningRate,
  setLearningRate,
  serializeOptimizer,
  deserializeOptimizer,
  disposeOptimizer,
} from './optimizers/registry.js';
export type { SerializedOptimizer } from './optimizers/registry.js';
export {
  numberOption,
  booleanOption,
  choiceOption,
  textOption,
  functionOption,
  withDefaults,
  resolveOptions,
  describeOptions,
} from './util/options.js';
export type {
  OptionBase,
  OptionSchema,
  OptionSpec,
  SpecFor,
  NumberOption,
  BooleanOption,
  ChoiceOption,
  TextOption,
  FunctionOption,
  SchemaOf,
  Resolved,
} from './util/options.js';
export type { NamedTensor } from './util/types.js';
export type { NumberRange } from './util/validate.js';
export type { PerturbationPlan } from './math/perturbation.js';
export { TwoPassOptimizer, type InProgress } from './core/two-pass.js';
export type { PerturbedStep } from './core/perturbed-step.js';
export type { NonTrainableRecorder } from './core/state-guard.js';
export type { VariableGradient } from './optimizers/gradients.js';
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
export {
  selectBackend,
  useFastestBackend,
  registerWasmTrainingKernels,
  registerCpuTrainingKernels,
  type BackendChoice,
  type SelectBackendOptions,
} from './backend/index.js';
