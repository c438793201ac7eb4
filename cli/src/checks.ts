/** Checks of the optimizers a command will train, made before any of them trains. */
import { disposeOptimizer } from 'tfjs-sam';
import {
  stepPlanProblem,
  buildOptimizer,
  isPlainOptimizer,
  type OptimizerSpec,
} from 'tfjs-sam/toolkit';
import { hyperparameters, type CommonFlags } from './flags.js';

/**
 * Builds every optimizer once, so that a bad option fails before any training, and refuses
 * --m-sharpness and --workers for methods that cannot split their step. --m-sharpness applies
 * to the sharpness-aware optimizers of a run: plain ones train as usual next to them.
 */
export function checkOptimizers(specs: readonly OptimizerSpec[], flags: CommonFlags): void {
  for (const spec of specs) {
    const optimizer = buildOptimizer(spec, hyperparameters(flags));
    const problem = stepPlanProblem(
      optimizer,
      {
        mSharpness: isPlainOptimizer(spec.name) ? 1 : flags.mSharpness,
        workers: flags.workers,
        accumulate: flags.accumulate,
      },
      {
        mSharpness: '--m-sharpness',
        workers: '--workers',
        accumulate: '--accumulate',
        subject: spec.label,
        style: 'flags',
      },
    );
    disposeOptimizer(optimizer);
    if (problem !== null) throw new Error(problem);
  }
}
