export {
  enableHigherOrderGradients,
  higherOrderGradientsEnabled,
  HIGHER_ORDER_GRADIENT_KERNELS,
} from './higher-order-gradients.js';
export { hessianVectorProduct, type HvpMethod, type HvpOptions, type HvpResult } from './hvp.js';
export {
  hessianEigenvalues,
  hessianTrace,
  type EigenvalueEstimate,
  type EigenvalueOptions,
  type EigenvalueResult,
  type TraceOptions,
  type TraceResult,
} from './spectrum.js';
export {
  adaptiveSharpness,
  mSharpness,
  robustnessCurve,
  worstCaseSharpness,
  type AscentPoint,
  type Evaluation,
  type Evaluator,
  type MSharpnessResult,
  type RobustnessOptions,
  type RobustnessPoint,
  type RobustnessResult,
  type WorstCaseOptions,
  type WorstCaseResult,
} from './sharpness.js';
export {
  filterNormalizedDirection,
  landscapeSlice1D,
  landscapeSlice2D,
  linearInterpolation,
  type InterpolationOptions,
  type Landscape1D,
  type Landscape2D,
  type LandscapePoint1D,
  type LandscapePoint2D,
  type SliceOptions,
} from './landscape.js';
export {
  MODEL_LOSSES,
  modelObjective,
  softmaxCrossEntropyFromLogits,
  type ModelLoss,
  type ModelObjective,
} from './model-loss.js';
export {
  modelLandscapes,
  sharpnessReport,
  type ModelLandscapes,
  type ModelLandscapesOptions,
  type SharpnessReport,
  type SharpnessReportOptions,
} from './report.js';
export type { HessianLoss, LossFn, LossParts } from './state.js';
export type { Tree } from '../math/tree.js';
