/**
 * `tfjs-sam/toolkit`: what tools built on the library use (the `tfjs-sam` CLI of the
 * tfjs-sam-cli package is one): optimizers named in text (`gsam(alpha=0.3)`), the capability
 * checks of a step plan (m-sharpness, data-parallel workers) with their messages, and the seeded
 * generator behind every subset, split, shuffle and label flip of `tfjs-sam/data`, so a tool can
 * draw the same samples.
 */
export {
  BASE_OPTIMIZERS,
  buildOptimizer,
  formatOptimizerSpec,
  isPlainOptimizer,
  knownOptimizerNames,
  methodOptions,
  parseOptimizerList,
  parseOptimizerSpec,
  passesPerStep,
  type CommonHyperparameters,
  type OptimizerSpec,
  type OptionValue,
} from './optimizer-spec.js';
export {
  capabilitiesOf,
  checkStepPlan,
  dataParallelProblem,
  methodOf,
  stepPlanProblem,
  supportingMethods,
  type Naming,
  type StepPlan,
} from './capabilities.js';
export {
  createRandom,
  deriveSeed,
  permutation,
  sampleWithoutReplacement,
  type Random,
} from '../util/random.js';
export { checkKnownOptions } from '../util/validate.js';
