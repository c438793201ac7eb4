/**
 * Working with any tfjs optimizer as a value: nested (de)serialization, learning-rate access,
 * and the order-stable way to hand it gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';

export interface SerializedOptimizer {
  className: string;
  config: tf.serialization.ConfigDict;
}

/** The duck type tfjs-layers' `compile` accepts (tfjs-core's `Optimizer[Symbol.hasInstance]`). */
export function isOptimizer(value: unknown): value is tf.Optimizer {
  const candidate = value as Partial<tf.Optimizer> | null;
  return (
    candidate != null &&
    typeof candidate.minimize === 'function' &&
    typeof candidate.computeGradients === 'function' &&
    typeof candidate.applyGradients === 'function'
  );
}

export function serializeOptimizer(optimizer: tf.Optimizer): SerializedOptimizer {
  return { className: optimizer.getClassName(), config: optimizer.getConfig() };
}

export function deserializeOptimizer(serialized: unknown, owner: string): tf.Optimizer {
  const spec = serialized as Partial<SerializedOptimizer> | null;
  if (spec == null || typeof spec.className !== 'string' || typeof spec.config !== 'object') {
    throw new Error(
      `${owner}: the saved base optimizer must look like {className, config}; got ${JSON.stringify(serialized)}.`,
    );
  }
  const registered = tf.serialization.SerializationMap.getMap().classNameMap[spec.className];
  if (registered === undefined) {
    throw new Error(
      `${owner}: the saved base optimizer class '${spec.className}' is not registered. ` +
        `Import the module that defines it and call tf.serialization.registerClass(${spec.className}) before loading.`,
    );
  }
  const [cls, fromConfig] = registered;
  const config = { ...(spec.config as tf.serialization.ConfigDict) };
  delete config['customObjects'];
  return fromConfig(cls, config) as tf.Optimizer;
}

interface WithLearningRate {
  learningRate?: number;
  setLearningRate?: (learningRate: number) => void;
  getLearningRate?: () => number;
}

/** The learning rate of a tfjs optimizer, of AdamW, or of a wrapper's base optimizer. */
export function getLearningRate(optimizer: tf.Optimizer): number {
  const o = optimizer as unknown as WithLearningRate;
  if (typeof o.getLearningRate === 'function') return o.getLearningRate();
  if (typeof o.learningRate === 'number') return o.learningRate;
  throw new Error(
    `getLearningRate: optimizer ${optimizer.getClassName()} has no numeric 'learningRate' field.`,
  );
}

/**
 * Sets the learning rate of any tfjs optimizer. SGD and momentum cache −lr in a scalar tensor,
 * so they must go through their own `setLearningRate`; the others read the field at each step.
 */
export function setLearningRate(optimizer: tf.Optimizer, learningRate: number): void {
  if (!Number.isFinite(learningRate) || learningRate < 0) {
    throw new Error(
      `setLearningRate: learning rate is ${learningRate}; expected a finite number >= 0.`,
    );
  }
  const o = optimizer as unknown as WithLearningRate;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(learningRate);
  else if (typeof o.learningRate === 'number') o.learningRate = learningRate;
  else {
    throw new Error(
      `setLearningRate: optimizer ${optimizer.getClassName()} has no 'learningRate' to set.`,
    );
  }
}

/**
 * tfjs' Adam and Adamax rebuild their running β^t products from the iteration count on
 * `setWeights` (pow(β, t+1)), which can differ in the last float32 bit from the product they
 * accumulated; saving the accumulated values lets a resumed run continue bit for bit.
 */
const ACCUMULATED_POWERS = ['accBeta1', 'accBeta2'] as const;

/** The optimizer that holds the state: wrappers such as WeightDecay expose theirs as `base`. */
export function innermost(optimizer: tf.Optimizer): tf.Optimizer {
  let current = optimizer;
  for (
    let inner = (current as unknown as { base?: unknown }).base;
    isOptimizer(inner);
    inner = (current as unknown as { base?: unknown }).base
  ) {
    current = inner;
  }
  return current;
}

export function accumulatedPowers(optimizer: tf.Optimizer): NamedTensor[] {
  const o = innermost(optimizer) as unknown as Record<string, unknown>;
  return ACCUMULATED_POWERS.filter((key) => o[key] instanceof tf.Variable).map((key) => ({
    name: key,
    tensor: o[key] as tf.Variable,
  }));
}

export function restoreAccumulatedPowers(optimizer: tf.Optimizer, saved: NamedTensor[]): void {
  const o = innermost(optimizer) as unknown as Record<string, unknown>;
  for (const { name, tensor } of saved) {
    const target = o[name];
    if (target instanceof tf.Variable) target.assign(tensor);
  }
}

/**
 * `optimizer.dispose()`, plus the learning-rate scalar that tfjs-core 4.22's
 * `MomentumOptimizer.dispose` leaves behind (it overrides `SGDOptimizer.dispose`, which frees that
 * scalar, without calling it): one leaked tensor per disposed momentum optimizer otherwise.
 */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  const learningRateScalar = (optimizer as unknown as { c?: tf.Tensor }).c;
  optimizer.dispose();
  if (
    optimizer.getClassName() === 'Momentum' &&
    learningRateScalar !== undefined &&
    !learningRateScalar.isDisposed
  ) {
    learningRateScalar.dispose();
  }
}
