/**
 * Optimizers named in text, for the CLI and configuration files: `sgd`, `momentum`, `adam`,
 * `adamw`, `rmsprop`, and the SAM family (`sam`, `asam`, `gsam`, …), each optionally with
 * options in parentheses: `gsam(alpha=0.3,rho=0.1)`, `looksam(k=5)`, `sam(base=adamw)`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MethodDefinition } from '../core/method.js';
import { adamw } from '../optimizers/adamw.js';
import { withWeightDecay } from '../optimizers/weight-decay.js';
import { resolveOptions } from '../util/options.js';
import { METHODS, findMethod } from '../variants/registry.js';

export type OptionValue = number | boolean | string;

export interface OptimizerSpec {
  /** As written, e.g. `gsam(alpha=0.3)`; used as the run's label. */
  label: string;
  name: string;
  options: Record<string, OptionValue>;
}

/** Hyperparameters shared by every optimizer of a run (CLI flags); a spec's options override them. */
export interface CommonHyperparameters {
  learningRate: number;
  momentum: number;
  weightDecay: number;
  /** Base optimizer of the SAM family: 'momentum' (default), 'sgd', 'adam', 'adamw', 'rmsprop'. */
  base: string;
  rho?: number;
  /** Steps in one epoch of the run, when known (XSAM then searches α once per epoch). */
  stepsPerEpoch?: number;
}

export const BASE_OPTIMIZERS = ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop'] as const;
const BASES = BASE_OPTIMIZERS;

/** sgd, momentum, adam, adamw, rmsprop: no sharpness-aware step. */
export function isPlainOptimizer(name: string): boolean {
  return (BASES as readonly string[]).includes(name);
}

export function knownOptimizerNames(): string[] {
  return [...BASES, ...METHODS.map((m) => m.name)];
}

function parseValue(text: string): OptionValue {
  if (text === 'true') return true;
  if (text === 'false') return false;
  const number = Number(text);
  return text.trim() !== '' && Number.isFinite(number) ? number : text;
}

/** Parses `name` or `name(key=value,…)`. */
export function parseOptimizerSpec(text: string): OptimizerSpec {
  const match = /^\s*([a-z][a-z0-9-]*)\s*(?:\((.*)\))?\s*$/i.exec(text);
  if (match === null) {
    throw new Error(
      `optimizer '${text}' is not of the form name or name(key=value,...), e.g. gsam(alpha=0.3).`,
    );
  }
  const name = (match[1] as string).toLowerCase();
  if (!knownOptimizerNames().includes(name)) {
    throw new Error(
      `unknown optimizer '${name}' in '${text}'. Known: ${knownOptimizerNames().join(', ')}.`,
    );
  }
  const options: Record<string, OptionValue> = {};
  for (const pair of (match[2] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, value, ...extra] = pair.split('=');
    if (key === undefined || value === undefined || extra.length > 0 || key.trim() === '') {
      throw new Error(`option '${pair}' in '${text}' is not of the form key=value.`);
    }
    options[key.trim()] = parseValue(value.trim());
  }
  return { label: text.trim(), name, options };
}

/** The text of a spec: `name` or `name(key=value,…)`. */
export function formatOptimizerSpec(
  name: string,
  options: Readonly<Record<string, unknown>> = {},
): string {
  const pairs = Object.entries(options).map(([key, value]) => `${key}=${String(value)}`);
  return pairs.length === 0 ? name : `${name}(${pairs.join(',')})`;
}

/** Splits `sgd,sam(rho=0.1,adaptive=true),gsam` at the top-level commas. */
export function parseOptimizerList(text: string): OptimizerSpec[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  const specs = parts
    .map((p) => p.trim())
    .filter(Boolean)
    .map(parseOptimizerSpec);
  if (specs.length === 0) throw new Error(`no optimizer in '${text}'; e.g. --optimizers sgd,sam.`);
  return specs;
}

function number(spec: OptimizerSpec, key: string, fallback: number): number {
  const value = spec.options[key] ?? fallback;
  if (typeof value !== 'number')
    throw new Error(`${spec.label}: option ${key} is '${value}'; expected a number.`);
  return value;
}

function buildBase(name: string, spec: OptimizerSpec, common: CommonHyperparameters): tf.Optimizer {
  const lr = number(spec, 'lr', common.learningRate);
  const weightDecay = number(spec, 'weightDecay', common.weightDecay);
  const decayed = (optimizer: tf.Optimizer) =>
    weightDecay > 0 ? withWeightDecay(optimizer, weightDecay) : optimizer;
  switch (name) {
    case 'sgd':
      return decayed(tf.train.sgd(lr));
    case 'momentum':
      return decayed(
        tf.train.momentum(
          lr,
          number(spec, 'momentum', common.momentum),
          spec.options['nesterov'] === true,
        ),
      );
    case 'adam':
      return decayed(tf.train.adam(lr));
    case 'adamw':
      return adamw({ learningRate: lr, weightDecay });
    case 'rmsprop':
      return decayed(tf.train.rmsprop(lr));
    default:
      throw new Error(`${spec.label}: base '${name}' is not one of ${BASES.join(', ')}.`);
  }
}

const SHARED_KEYS = ['lr', 'momentum', 'weightDecay', 'base', 'nesterov'];

/** The spec's options without the keys a family member took over (MSAM's weightDecay). */
function withoutKey(
  options: Record<string, OptionValue>,
  taken: Record<string, unknown>,
): Record<string, OptionValue> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !(key in taken)));
}

/** The spec's options over the defaults its method takes from the run. */
function withRunDefaults(
  method: MethodDefinition,
  spec: OptimizerSpec,
  common: Partial<CommonHyperparameters>,
): OptimizerSpec {
  const defaults = method.runDefaults?.(common) ?? {};
  return { ...spec, options: { ...(defaults as Record<string, OptionValue>), ...spec.options } };
}

/** Builds the optimizer a spec names, with the run's shared hyperparameters. */
export function buildOptimizer(given: OptimizerSpec, common: CommonHyperparameters): tf.Optimizer {
  const method = findMethod(given.name);
  if (method === undefined) return buildBase(given.name, given, common);
  const spec = withRunDefaults(method, given, common);
  const baseName = String(spec.options['base'] ?? common.base);
  const options: Record<string, unknown> = {};
  let baseCommon = common;
  if (method.ownsWeightDecay === true && baseName !== 'adamw') {
    options['weightDecay'] = number(spec, 'weightDecay', common.weightDecay);
    baseCommon = { ...common, weightDecay: 0 };
  }
  const base = buildBase(
    baseName,
    { ...spec, options: withoutKey(spec.options, options) },
    baseCommon,
  );
  if (common.rho !== undefined) options['rho'] = common.rho;
  for (const [key, value] of Object.entries(spec.options))
    if (!SHARED_KEYS.includes(key)) options[key] = value;
  try {
    return method.create(base, options);
  } catch (error) {
    base.dispose();
    throw new Error(`${spec.label}: ${(error as Error).message}`);
  }
}

/** Forward/backward passes per step relative to a plain optimizer (for equal-compute budgets). */
export function passesPerStep(
  spec: OptimizerSpec,
  common: Partial<CommonHyperparameters> = {},
): number {
  const resolved = methodOptions(spec, common);
  return resolved === null ? 1 : resolved.method.passes(resolved.options);
}

/**
 * The method a spec names and its options over the run's defaults and the method's own, validated
 * (the base optimizer's keys left out); null for a plain optimizer.
 */
export function methodOptions(
  spec: OptimizerSpec,
  common: Partial<CommonHyperparameters> = {},
): { method: MethodDefinition; options: Readonly<Record<string, unknown>> } | null {
  const method = findMethod(spec.name);
  if (method === undefined) return null;
  const own = Object.fromEntries(
    Object.entries(withRunDefaults(method, spec, common).options).filter(
      ([key]) => !SHARED_KEYS.includes(key),
    ),
  );
  return {
    method,
    options: resolveOptions(method.title, method.options, { ...own, ...method.fixed }),
  };
}
