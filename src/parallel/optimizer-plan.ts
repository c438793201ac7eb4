/**
 * Which optimizers a data-parallel step can run, and what the replicas need to know about them.
 * Plain optimizers only apply the averaged gradient. SAM, ASAM and SAM-ON perturb each replica
 * with its own slice gradient (m-sharpness, m = number of slices); every other variant changes the
 * update itself or runs its own step in `minimize`, and is refused.
 */
import * as tf from '@tensorflow/tfjs-core';
import { SAM } from '../core/sam.js';
import { isScaleLikeVariable } from '../math/perturbation.js';
import { isOptimizer } from '../optimizers/registry.js';
import { SAMON } from '../variants/sam-on.js';

/** What a replica needs to perturb itself as SAM would (constant over a run; ρ comes per step). */
export interface PerturbationSpec {
  adaptive: boolean;
  eta: number;
  epsilon: number;
  /** Per trainable variable: perturbed at all (SAM-ON: normalization layers only). */
  perturbedMask: boolean[];
  /** Per trainable variable: ASAM scales it by |w| + η (otherwise T = 1). */
  adaptiveMask: boolean[];
}

export type OptimizerPlan =
  | { kind: 'plain'; optimizer: tf.Optimizer }
  | { kind: 'sam'; optimizer: SAM; perturbation: PerturbationSpec };

const SUPPORTED =
  'Data-parallel training works with plain tfjs optimizers (sgd, momentum, adam, adamw, …) and with SAM, ' +
  'ASAM (sam(base, {adaptive: true}) or asam(base)) and SAM-ON (samOn(base))';

/**
 * Throws an error saying what works when `optimizer` cannot run data-parallel; returns it typed as
 * a plain optimizer or as SAM / ASAM / SAM-ON.
 */
export function checkDataParallelOptimizer(
  optimizer: unknown,
): { kind: 'plain'; optimizer: tf.Optimizer } | { kind: 'sam'; optimizer: SAM } {
  if (!isOptimizer(optimizer)) {
    throw new Error(
      `createDataParallel: 'optimizer' must be a tfjs optimizer (e.g. tf.train.sgd(0.1)) or a SAM instance; got ${String(optimizer)}.`,
    );
  }
  if (!inherits(optimizer, SAM)) {
    if (optimizer.minimize !== tf.Optimizer.prototype.minimize) {
      throw new Error(
        `createDataParallel: ${optimizer.getClassName()} runs its own step in minimize(), which a data-parallel step cannot split over workers. ` +
          `${SUPPORTED}; train ${optimizer.getClassName()} single-threaded with model.fit or the trainer instead.`,
      );
    }
    return { kind: 'plain', optimizer };
  }
  const sam = optimizer as SAM;
  const name = sam.getClassName();
  const exact = Object.getPrototypeOf(optimizer) as object;
  if ((exact !== SAM.prototype && exact !== SAMON.prototype) || !sam.supportsMSharpness) {
    throw new Error(
      `createDataParallel: ${name} is not supported: its step cannot be split into per-slice perturbations whose ` +
        `perturbed gradients are averaged (m-sharpness). ${SUPPORTED}; train ${name} single-threaded with model.fit ` +
        'or the trainer (workers: 1 / no --workers) instead.',
    );
  }
  if (sam.ascentSteps > 1) {
    throw new Error(
      `createDataParallel: ${name} has ascentSteps ${sam.ascentSteps}; a data-parallel step takes one ascent step per slice (as SAM.stepMSharpness). Use ascentSteps: 1.`,
    );
  }
  return { kind: 'sam', optimizer: sam };
}

/** Not `instanceof`: tf.Optimizer's Symbol.hasInstance is a duck-type test every optimizer passes. */
function inherits(value: object, cls: { prototype: object }): boolean {
  return Object.prototype.isPrototypeOf.call(cls.prototype, value);
}

/** Classifies `optimizer` for the trainable variables named `variableNames`; throws when unsupported. */
export function planOptimizer(optimizer: unknown, variableNames: readonly string[]): OptimizerPlan {
  const checked = checkDataParallelOptimizer(optimizer);
  if (checked.kind === 'plain') return checked;
  const sam = checked.optimizer;
  let perturbedMask = variableNames.map(() => true);
  if (inherits(sam, SAMON)) {
    const samOn = sam as SAMON;
    // The same test SAMON applies to variable names (case-insensitive pattern).
    const matcher = new RegExp(samOn.variablePattern, 'i');
    perturbedMask = variableNames.map((n) => matcher.test(n));
    if (!perturbedMask.some(Boolean)) {
      throw new Error(
        `createDataParallel: none of the model's ${variableNames.length} trainable variables matches SAMON's variablePattern /${samOn.variablePattern}/i. ` +
          'SAM-ON perturbs normalization layers only: use a model with BatchNormalization/LayerNormalization layers, or another variablePattern.',
      );
    }
  }
  return {
    kind: 'sam',
    optimizer: sam,
    perturbation: {
      adaptive: sam.adaptive,
      eta: sam.eta,
      epsilon: sam.epsilon,
      perturbedMask,
      adaptiveMask: variableNames.map((n) => sam.adaptiveScope === 'all' || isScaleLikeVariable(n)),
    },
  };
}
