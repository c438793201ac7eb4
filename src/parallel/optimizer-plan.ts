/**
 * Which optimizers a data-parallel step can run, and what the replicas need to know about them.
 * Plain optimizers only apply the averaged gradient. Sharpness-aware optimizers whose
 * `capabilities.dataParallel` is true (SAM, ASAM, SAM-ON) perturb each replica with its own slice
 * gradient by the optimizer's own perturbation plan (m-sharpness, m = number of slices); the rest
 * are refused (src/toolkit/capabilities.ts says why).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { SAM } from '../core/sam.js';
import type { PerturbationPlan } from '../math/perturbation.js';
import { isTwoPoint, type TwoPointStepping } from '../core/method.js';
import { isOptimizer } from '../optimizers/registry.js';
import { capabilitiesOf, dataParallelProblem } from '../toolkit/capabilities.js';

export type OptimizerPlan =
  | { kind: 'plain'; optimizer: tf.Optimizer }
  | { kind: 'sam'; optimizer: SAM; perturbation: PerturbationPlan }
  | { kind: 'paired'; optimizer: tf.Optimizer & TwoPointStepping };

/**
 * Throws an error saying what works when `optimizer` cannot run data-parallel; returns it typed as
 * a plain optimizer or as a SAM whose step splits into slices.
 */
export function checkDataParallelOptimizer(
  optimizer: unknown,
):
  | { kind: 'plain'; optimizer: tf.Optimizer }
  | { kind: 'sam'; optimizer: SAM }
  | { kind: 'paired'; optimizer: tf.Optimizer & TwoPointStepping } {
  if (!isOptimizer(optimizer)) {
    throw new Error(
      `createDataParallel: 'optimizer' must be a tfjs optimizer (e.g. tf.train.sgd(0.1)) or a SAM instance; got ${String(optimizer)}.`,
    );
  }
  const problem = dataParallelProblem(optimizer);
  if (problem !== null) throw new Error(`createDataParallel: ${problem}`);
  if (capabilitiesOf(optimizer) === null) return { kind: 'plain', optimizer };
  return isTwoPoint(optimizer)
    ? { kind: 'paired', optimizer }
    : { kind: 'sam', optimizer: optimizer as SAM };
}

/** Classifies `optimizer` for the trainable variables named `variableNames`; throws when unsupported. */
export function planOptimizer(optimizer: unknown, variableNames: readonly string[]): OptimizerPlan {
  const checked = checkDataParallelOptimizer(optimizer);
  if (checked.kind !== 'sam') return checked;
  const sam = checked.optimizer;
  const variables = variableNames.map((name) => ({ name }));
  const perturbation = sam.perturbationPlan(variables);
  if (!perturbation.perturbedMask.some(Boolean)) {
    throw new Error(`createDataParallel: ${sam.noPerturbedVariables(variables, 'model')}`);
  }
  return { kind: 'sam', optimizer: sam, perturbation };
}
