/**
 * The non-finite policy of a step: find the first NaN/Inf in the loss or a gradient, and either
 * throw an error naming the step and the tensor or skip the step (the caller reverts it first).
 */
import type * as tf from '@tensorflow/tfjs-core';
import { finiteProbe } from '../math/tree.js';
import type { VariableGradient } from '../optimizers/gradients.js';
import type { NonFinitePolicy, SkippedStep } from './sam-options.js';

/** What is not finite, in words (null when the loss and every gradient are finite). */
export function nonFiniteProblem(
  loss: tf.Scalar | null,
  gradients: readonly VariableGradient[],
  where: string,
): string | null {
  const tensors = gradients.map((g) => g.gradient);
  if (isFinite(loss === null ? tensors : [loss, ...tensors])) return null;
  if (loss !== null && !Number.isFinite(loss.dataSync()[0])) {
    return `the loss ${where} is ${loss.dataSync()[0]}`;
  }
  const bad = gradients.find((g) => !isFinite([g.gradient]));
  return `the gradient of '${bad?.variable.name ?? '?'}' ${where} has NaN or Inf values`;
}

function isFinite(tensors: readonly tf.Tensor[]): boolean {
  const probe = finiteProbe(tensors);
  const ok = Number.isFinite(probe.dataSync()[0]);
  probe.dispose();
  return ok;
}

/** Counts and reports skipped steps, or throws, as the optimizer's `nonFinite` option says. */
export class NonFiniteGuard {
  /** Steps skipped under `nonFinite: 'skip'`. */
  skippedSteps = 0;

  constructor(
    private readonly owner: string,
    readonly policy: NonFinitePolicy,
    public onSkip: ((skipped: SkippedStep) => void) | null,
  ) {}

  /** `revert` undoes what the step changed so far; `step` counts applied steps. */
  handle(problem: string, appliedSteps: number, revert: () => void): void {
    const step = appliedSteps + this.skippedSteps;
    revert();
    if (this.policy === 'throw') {
      throw new Error(
        `${this.owner}: non-finite values at step ${step}: ${problem}. The weights and optimizer state were left ` +
          "as they were before the step. Lower the learning rate or rho, check the inputs, or pass nonFinite: 'skip' " +
          'to skip such steps.',
      );
    }
    this.skippedSteps += 1;
    this.onSkip?.({ step, reason: problem });
  }
}
