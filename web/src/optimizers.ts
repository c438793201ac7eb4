import * as tf from '@tensorflow/tfjs-core';
import {
  METHODS,
  type MethodDefinition,
  type PreviousBatchStepping,
  type SharpnessAware,
} from '../../src/index.js';

export interface OptimizerSettings {
  learningRate: number;
  rho: number;
}

type Wrapper = (base: tf.Optimizer, rho: number) => tf.Optimizer;

export interface OptimizerEntry {
  id: string;
  label: string;
  colour: string;
  /** Built on plain SGD with the given learning rate (the 2D scene). */
  create: (settings: OptimizerSettings) => tf.Optimizer;
  /** For the sharpness-aware ones: wraps any base optimizer (the training page uses momentum). */
  wrap: Wrapper | null;
}

const plainSgd = (settings: OptimizerSettings) => tf.train.sgd(settings.learningRate);

function baseOptimizer(
  id: string,
  label: string,
  colour: string,
  create: (settings: OptimizerSettings) => tf.Optimizer,
): OptimizerEntry {
  return { id, label, colour, create, wrap: null };
}

const METHOD_COLOURS = [
  '#1f77b4',
  '#17becf',
  '#2ca02c',
  '#9467bd',
  '#e377c2',
  '#bcbd22',
  '#aec7e8',
  '#98df8a',
  '#7f7f7f',
  '#c5b0d5',
  '#9edae5',
  '#f7b6d2',
];

/**
 * A registered method as the demos run it: under `fit`-like steps on every variable, so a method
 * that selects data trains with its fraction at 1, and one that needs normalization layers (which
 * the demos' models do not have) is left out. A method that cannot follow plain SGD (it needs a
 * momentum buffer) gets momentum SGD in the 2D scene too.
 */
function methodEntry(method: MethodDefinition, index: number): OptimizerEntry {
  const fixed = method.selectionFraction === undefined ? {} : { [method.selectionFraction]: 1 };
  const wrap: Wrapper = (base, rho) => method.create(base, { ...fixed, rho });
  const onSgd = method.bases === undefined || method.bases.includes('sgd');
  return {
    id: method.name,
    label: onSgd ? method.title : `${method.title} (momentum)`,
    colour: METHOD_COLOURS[index % METHOD_COLOURS.length] as string,
    wrap,
    create: (settings) =>
      wrap(
        onSgd ? plainSgd(settings) : tf.train.momentum(settings.learningRate, 0.9),
        settings.rho,
      ),
  };
}

/** Every optimizer the demos offer: three plain ones, then the library's registered methods. */
export const optimizerCatalog: readonly OptimizerEntry[] = [
  baseOptimizer('sgd', 'SGD', '#d62728', plainSgd),
  baseOptimizer('momentum', 'SGD + momentum', '#ff7f0e', (s) =>
    tf.train.momentum(s.learningRate, 0.9),
  ),
  baseOptimizer('adam', 'Adam (lr × 5)', '#8c564b', (s) => tf.train.adam(s.learningRate * 5)),
  ...METHODS.filter((method) => method.needsNormalizationLayers !== true).map(methodEntry),
];

export const sharpnessAwareOptimizers = optimizerCatalog.filter((entry) => entry.wrap !== null);

/**
 * One step of any catalog optimizer on `lossFn`: `minimize`, or, for a method whose step also
 * takes the previous batch (SAMPa), `stepWithPrevious` with `previousLossFn` (the same function
 * where the loss has no batches, as on a surface). Returns the loss (the caller disposes it).
 */
export function optimizerStep(
  optimizer: tf.Optimizer,
  lossFn: () => tf.Scalar,
  previousLossFn: (() => tf.Scalar) | null,
  variables: tf.Variable[],
): tf.Scalar | null {
  const capabilities = (optimizer as Partial<SharpnessAware>).capabilities;
  if (capabilities?.previousBatch === true) {
    return (optimizer as tf.Optimizer & PreviousBatchStepping).stepWithPrevious(
      lossFn,
      previousLossFn,
      variables,
    );
  }
  return optimizer.minimize(lossFn, true, variables);
}

export function findOptimizer(id: string): OptimizerEntry {
  const entry = optimizerCatalog.find((candidate) => candidate.id === id);
  if (!entry) throw new Error(`Unknown optimizer "${id}"`);
  return entry;
}
