/**
 * The one place that decides whether an optimizer's step can run as a step kind (m-sharpness,
 * data-parallel slices) and says why not: the trainer, the CLI and `tfjs-sam/parallel` ask here,
 * and the methods that do support a kind are read from the registry, never named.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  isSharpnessAware,
  isTwoPoint,
  type Capabilities,
  type MethodDefinition,
} from '../core/method.js';
import { disposeOptimizer } from '../optimizers/registry.js';
import { METHODS } from '../variants/registry.js';

/** What a run asks of the step: m-sharpness parts, data-parallel replicas, micro-batches (1: off). */
export interface StepPlan {
  mSharpness: number;
  workers: number;
  /** Micro-batches accumulated into one step. */
  accumulate?: number;
}

/** How the caller names things in its messages. */
export interface Naming {
  /** The m-sharpness setting: `--m-sharpness` (CLI) or `mSharpness` (trainer). */
  mSharpness: string;
  /** The replicas setting: `--workers` (CLI) or `dataParallel` (trainer). */
  workers: string;
  /** The accumulation setting: `--accumulate` (CLI) or `accumulate` (trainer). */
  accumulate?: string;
  /** The optimizer as the user wrote it: its spec label (CLI) or class name. */
  subject: string;
  /** Flags in a command line, or options of a call. */
  style: 'flags' | 'options';
}

/** The capabilities of `optimizer`'s step; null for a plain optimizer (no perturbation). */
export function capabilitiesOf(optimizer: tf.Optimizer): Capabilities | null {
  return isSharpnessAware(optimizer) ? optimizer.capabilities : null;
}

/** Whether `optimizer` is a plain tfjs-core optimizer step (its own `minimize` is tfjs-core's). */
function hasPlainStep(optimizer: tf.Optimizer): boolean {
  return optimizer.minimize === tf.Optimizer.prototype.minimize;
}

/**
 * Why `optimizer` cannot take data-parallel steps (null: it can). Plain optimizers apply the
 * averaged gradient; sharpness-aware ones need `capabilities.dataParallel`.
 */
export function dataParallelProblem(optimizer: tf.Optimizer): string | null {
  const name = optimizer.getClassName();
  const capabilities = capabilitiesOf(optimizer);
  const supported = `Data-parallel training works with plain tfjs optimizers (sgd, momentum, adam, adamw, …) and with ${listing(supportingMethods('dataParallel').map((m) => m.title))}`;
  // Not a method of SAM's kind (no perturbation plan for the replicas): a plain step, or its own.
  const perturbs =
    typeof (optimizer as { perturbationPlan?: unknown }).perturbationPlan === 'function' ||
    isTwoPoint(optimizer);
  if (capabilities === null || !perturbs) {
    if (capabilities === null && hasPlainStep(optimizer)) return null;
    return (
      `${name} runs its own step in minimize(), which a data-parallel step cannot split over workers. ` +
      `${supported}; train ${name} single-threaded with model.fit or the trainer instead.`
    );
  }
  if (capabilities.dataParallel) return null;
  const ascentSteps = ascentStepsOf(optimizer);
  if (ascentSteps > 1) {
    return `${name} has ascentSteps ${ascentSteps}; a data-parallel step takes one ascent step per slice (as SAM.stepMSharpness). Use ascentSteps: 1.`;
  }
  return (
    `${name} is not supported: its step cannot be split into per-slice perturbations whose ` +
    `perturbed gradients are averaged (m-sharpness). ${supported}; train ${name} single-threaded with model.fit ` +
    'or the trainer (workers: 1 / no --workers) instead.'
  );
}

/** Why `plan` cannot run with `optimizer` (null: it can), in the caller's words. */
export function stepPlanProblem(
  optimizer: tf.Optimizer,
  plan: StepPlan,
  naming: Naming,
): string | null {
  const { mSharpness: m, workers } = plan;
  const [M, W, subject] = [naming.mSharpness, naming.workers, naming.subject];
  const k = plan.accumulate ?? 1;
  const A = naming.accumulate ?? 'accumulate';
  if (k > 1) {
    if (m > 1) {
      return `${A} ${k} with ${M} ${m}: m-sharpness already sweeps the batch in parts, one perturbation each; drop one of them.`;
    }
    if (workers > 1) {
      return `${A} ${k} with ${W} ${workers}: a data-parallel step already splits the batch over threads; drop one of them.`;
    }
    const capabilities = capabilitiesOf(optimizer);
    if (capabilities !== null && !capabilities.gradientAccumulation) {
      const why = capabilities.dataSelection
        ? 'its data selection ranks the whole batch'
        : capabilities.previousBatch
          ? 'its step takes the previous batch'
          : 'its step cannot be swept in parts';
      return `${A} ${k}: ${subject} cannot accumulate its step over micro-batches (${why}). Methods that can: ${listing(supportingMethods('gradientAccumulation').map((x) => x.name))}; drop ${A} for ${subject}.`;
    }
  }
  if (workers > 1) {
    if (m > 1) {
      return `${W} ${workers} with ${M} ${m}: data-parallel SAM already takes one perturbation per slice (m = ${workers}); drop ${M}.`;
    }
    const problem = dataParallelProblem(optimizer);
    if (problem !== null) return `${W} ${workers}: ${problem}`;
  }
  if (m <= 1) return null;
  const capabilities = capabilitiesOf(optimizer);
  if (capabilities === null) {
    return `${M} ${m} needs a sharpness-aware optimizer (${mSharpnessSpecs().join(', ')}); ${optimizer.getClassName()} has no perturbation to split.`;
  }
  if (capabilities.mSharpness) return null;
  if (capabilities.dataSelection) return dataSelectionProblem(optimizer, m, naming);
  const ascentSteps = ascentStepsOf(optimizer);
  if (ascentSteps > 1) {
    return `${M} ${m}: ${subject} has ascentSteps ${ascentSteps}; m-sharpness takes one ascent step per part. Use ascentSteps: 1.`;
  }
  return (
    `${M} ${m}: ${subject} changes the SAM update itself, so per-part perturbations cannot be averaged into it. ` +
    `m-sharpness works with ${listing(mSharpnessSpecs())}; drop ${subject} or ${M}.`
  );
}

/** Throws `stepPlanProblem` as an error, prefixed with `owner` when given. */
export function checkStepPlan(
  optimizer: tf.Optimizer,
  plan: StepPlan,
  naming: Naming,
  owner?: string,
): void {
  const problem = stepPlanProblem(optimizer, plan, naming);
  if (problem !== null) throw new Error(owner === undefined ? problem : `${owner}: ${problem}`);
}

function dataSelectionProblem(optimizer: tf.Optimizer, m: number, naming: Naming): string {
  const method = methodOf(optimizer);
  const option = method?.selectionFraction ?? 'gamma';
  const fraction = optimizer.getConfig()[option];
  const instead = `${method?.name ?? naming.subject}(${option}=1)`;
  const M = naming.mSharpness;
  return naming.style === 'flags'
    ? `${M} ${m}: ${naming.subject} selects the sharpest ${fraction} of each batch for its second pass, and one selection over m parts is not defined. ` +
        `Use ${instead} (weight perturbation only) or drop ${M}.`
    : `${M} ${m} with ${optimizer.getClassName()}'s data selection (${option} ${fraction}): one selection over m parts is not defined. ` +
        `Use ${instead} (weight perturbation only) for m-sharpness, or drop ${M}.`;
}

function ascentStepsOf(optimizer: tf.Optimizer): number {
  const steps = (optimizer as { ascentSteps?: unknown }).ascentSteps;
  return typeof steps === 'number' ? steps : 1;
}

/** `a, b and c`. */
function listing(items: readonly string[]): string {
  return items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] as string}`;
}

// ---------------------------------------------------------------- the registry's capabilities

interface Probe {
  method: MethodDefinition;
  className: string;
  capabilities: Capabilities;
  /** With a selecting method's fraction at 1 (null for the others). */
  unselected: Capabilities | null;
}

let probes: Probe[] | null = null;

/** Every method built once with its defaults on a throwaway base, to read what it reports. */
function probeMethods(): Probe[] {
  probes ??= METHODS.map((method) => {
    const build = (options: Record<string, unknown>) => {
      const base =
        method.bases === undefined || method.bases.includes('sgd')
          ? tf.train.sgd(0.1)
          : tf.train.momentum(0.1, 0.9);
      const optimizer = method.create(base, options);
      const facts = {
        className: optimizer.getClassName(),
        capabilities: capabilitiesOf(optimizer) as Capabilities,
      };
      disposeOptimizer(optimizer);
      return facts;
    };
    const own = build({});
    const unselected =
      method.selectionFraction === undefined
        ? null
        : build({ [method.selectionFraction]: 1 }).capabilities;
    return { method, ...own, unselected };
  });
  return probes;
}

/** The registered methods whose default step has `capability`. */
export function supportingMethods(capability: keyof Capabilities): MethodDefinition[] {
  return probeMethods()
    .filter((p) => p.capabilities[capability])
    .map((p) => p.method);
}

/** Specs that run m-sharpness: methods that do by default, and selecting ones at fraction 1. */
function mSharpnessSpecs(): string[] {
  return probeMethods().flatMap((p) =>
    p.capabilities.mSharpness
      ? [p.method.name]
      : p.unselected?.mSharpness
        ? [`${p.method.name}(${p.method.selectionFraction}=1)`]
        : [],
  );
}

/** The registry entry of `optimizer`'s class (or of the nearest registered class it extends). */
export function methodOf(optimizer: tf.Optimizer): MethodDefinition | undefined {
  const byClass = new Map<string, MethodDefinition>();
  for (const p of probeMethods()) if (!byClass.has(p.className)) byClass.set(p.className, p.method);
  for (
    let proto = Object.getPrototypeOf(optimizer) as { constructor?: { className?: string } } | null;
    proto !== null;
    proto = Object.getPrototypeOf(proto) as typeof proto
  ) {
    const found = byClass.get(proto.constructor?.className ?? '');
    if (found !== undefined) return found;
  }
  return undefined;
}
