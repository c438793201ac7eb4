/** Checks of the optimizers a command will train, made before any of them trains. */
import type * as tf from '@tensorflow/tfjs-core';
import type { SAM } from '../core/sam.js';
import { disposeOptimizer } from '../optimizers/registry.js';
import { checkDataParallelOptimizer } from '../parallel/optimizer-plan.js';
import { buildOptimizer, isPlainOptimizer, type OptimizerSpec } from '../toolkit/optimizer-spec.js';
import { hyperparameters, type CommonFlags } from './flags.js';

/**
 * Builds every optimizer once, so that a bad option fails before any training, and refuses
 * --m-sharpness for methods that cannot split their step.
 */
export function checkOptimizers(specs: readonly OptimizerSpec[], flags: CommonFlags): void {
  for (const spec of specs) {
    const optimizer = buildOptimizer(spec, hyperparameters(flags)) as Partial<SAM> & tf.Optimizer;
    const supported = optimizer.supportsMSharpness === true;
    const selectedFraction = spec.name === 'esam' ? (optimizer as { gamma?: number }).gamma : 1;
    let dataParallelProblem: string | null = null;
    if (flags.workers > 1) {
      try {
        checkDataParallelOptimizer(optimizer);
      } catch (error) {
        dataParallelProblem = (error as Error).message.replace(/^createDataParallel: /, '');
      }
    }
    disposeOptimizer(optimizer);
    if (dataParallelProblem !== null) {
      throw new Error(`--workers ${flags.workers}: ${dataParallelProblem}`);
    }
    if (flags.workers > 1 && flags.mSharpness > 1) {
      throw new Error(
        `--workers ${flags.workers} with --m-sharpness ${flags.mSharpness}: data-parallel SAM already takes one perturbation per thread's slice (m = ${flags.workers}); drop --m-sharpness.`,
      );
    }
    if (flags.mSharpness > 1 && selectedFraction !== undefined && selectedFraction < 1) {
      throw new Error(
        `--m-sharpness ${flags.mSharpness}: ${spec.label} selects the sharpest ${selectedFraction} of each batch for its second pass, and one selection over m parts is not defined. Use esam(gamma=1) (weight perturbation only) or drop --m-sharpness.`,
      );
    }
    if (flags.mSharpness > 1 && !isPlainOptimizer(spec.name) && !supported) {
      throw new Error(
        `--m-sharpness ${flags.mSharpness}: ${spec.label} changes the SAM update itself, so per-part perturbations cannot be averaged into it. m-sharpness works with sam, asam, samon and esam(gamma=1); drop ${spec.label} or --m-sharpness.`,
      );
    }
  }
}
