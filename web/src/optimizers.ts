import * as tf from '@tensorflow/tfjs-core';
import { asam, esam, fsam, gsam, looksam, msam, sam, wsam, xsam } from '../../src/index.js';

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

function sharpnessAware(id: string, label: string, colour: string, wrap: Wrapper): OptimizerEntry {
  return { id, label, colour, wrap, create: (settings) => wrap(plainSgd(settings), settings.rho) };
}

/** Every optimizer the demos offer; a new variant of the library is one more line here. */
export const optimizerCatalog: readonly OptimizerEntry[] = [
  baseOptimizer('sgd', 'SGD', '#d62728', plainSgd),
  baseOptimizer('momentum', 'SGD + momentum', '#ff7f0e', (s) =>
    tf.train.momentum(s.learningRate, 0.9),
  ),
  baseOptimizer('adam', 'Adam (lr × 5)', '#8c564b', (s) => tf.train.adam(s.learningRate * 5)),
  sharpnessAware('sam', 'SAM', '#1f77b4', (base, rho) => sam(base, { rho })),
  sharpnessAware('asam', 'ASAM', '#17becf', (base, rho) =>
    asam(base, { rho, adaptiveScope: 'all' }),
  ),
  sharpnessAware('gsam', 'GSAM', '#2ca02c', (base, rho) => gsam(base, { rho })),
  sharpnessAware('wsam', 'WSAM', '#9467bd', (base, rho) => wsam(base, { rho })),
  sharpnessAware('looksam', 'LookSAM', '#e377c2', (base, rho) => looksam(base, { rho })),
  sharpnessAware('fsam', 'F-SAM', '#bcbd22', (base, rho) => fsam(base, { rho })),
  sharpnessAware('xsam', 'XSAM', '#7f7f7f', (base, rho) => xsam(base, { rho })),
  sharpnessAware('esam', 'ESAM (random weight subsets)', '#aec7e8', (base, rho) =>
    esam(base, { rho, gamma: 1 }),
  ),
  // MSAM follows a momentum buffer, so even the 2D scene gives it a momentum base.
  {
    id: 'msam',
    label: 'MSAM (momentum)',
    colour: '#98df8a',
    create: (settings) =>
      msam(tf.train.momentum(settings.learningRate, 0.9), { rho: settings.rho }),
    wrap: (base, rho) => msam(base, { rho }),
  },
];

export const sharpnessAwareOptimizers = optimizerCatalog.filter((entry) => entry.wrap !== null);

export function findOptimizer(id: string): OptimizerEntry {
  const entry = optimizerCatalog.find((candidate) => candidate.id === id);
  if (!entry) throw new Error(`Unknown optimizer "${id}"`);
  return entry;
}
