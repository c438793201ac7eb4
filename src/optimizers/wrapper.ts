/**
 * The base of every optimizer that wraps another one (SAM and its family, MSAM, coupled weight
 * decay): the base optimizer's learning rate, disposal, a stable gradient order, the saved state
 * by name, and the configuration with the base nested as `{className, config}`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';
import {
  resolveOptions,
  serializableOptions,
  type OptionSchema,
  type Resolved,
} from '../util/options.js';
import { gradientList } from './gradients.js';
import {
  accumulatedPowers,
  deserializeOptimizer,
  disposeOptimizer,
  getLearningRate,
  isOptimizer,
  restoreAccumulatedPowers,
  serializeOptimizer,
  setLearningRate,
} from './registry.js';
import type { NamedSlots } from './slots.js';

const BASE_PREFIX = 'base/';

export abstract class WrapperOptimizer extends tf.Optimizer {
  readonly base: tf.Optimizer;
  /** Per-variable state of the wrapper (saved and restored with the optimizer). */
  protected state: NamedSlots | null = null;
  /** The options after defaults, in the schema's order. */
  protected readonly settings: Readonly<Record<string, unknown>>;
  private readonly schema: OptionSchema;
  /** Saved names of the wrapper's own state start with this (`sam/`, `msam/`, …). */
  private readonly prefix: string;
  /** The order gradients are handed to the base (tfjs-core optimizers index state by position). */
  private readonly gradientOrder = new Map<string, number>();

  constructor(
    base: tf.Optimizer,
    options: object,
    schema: OptionSchema,
    { owner, prefix, baseHint }: { owner: string; prefix: string; baseHint?: string },
  ) {
    super();
    if (!isOptimizer(base)) {
      throw new Error(
        `${owner}: the first argument must be ${baseHint ?? 'a tfjs optimizer (e.g. tf.train.sgd(0.1))'}; got ${String(base)}.`,
      );
    }
    this.base = base;
    this.schema = schema;
    this.prefix = prefix;
    this.settings = resolveOptions(owner, schema, options) as Readonly<Record<string, unknown>>;
  }

  /** The resolved options, typed by the subclass's options interface. */
  protected options<T extends object>(): Resolved<T> {
    return this.settings as Resolved<T>;
  }

  /**
   * Hands `gradients` (one per variable) to the base in the order variables were first seen, and
   * counts the step (unless `countStep` is false: a method whose step takes several base steps).
   */
  protected applyToBase(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    countStep = true,
  ): void {
    const byName = new Map<string, tf.Tensor>();
    variables.forEach((v, i) => {
      if (!this.gradientOrder.has(v.name)) this.gradientOrder.set(v.name, this.gradientOrder.size);
      byName.set(v.name, gradients[i] as tf.Tensor);
    });
    const ordered = [...this.gradientOrder.keys()].map((name) => ({
      name,
      tensor: byName.get(name) ?? (null as unknown as tf.Tensor),
    }));
    this.base.applyGradients(ordered);
    if (countStep) this.incrementIterations();
  }

  /** Registers `variables` in the gradient order without a step; returns their positions. */
  protected positionsOf(variables: readonly tf.Variable[]): number[] {
    return variables.map((v) => {
      if (!this.gradientOrder.has(v.name)) this.gradientOrder.set(v.name, this.gradientOrder.size);
      return this.gradientOrder.get(v.name) as number;
    });
  }

  /** Applies gradients with the base optimizer as they are. */
  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = gradientList(variableGradients, this.getClassName());
    this.applyToBase(
      list.map((g) => g.variable),
      list.map((g) => g.gradient),
    );
  }

  getLearningRate(): number {
    return getLearningRate(this.base);
  }

  setLearningRate(learningRate: number): void {
    setLearningRate(this.base, learningRate);
  }

  /** Frees the wrapper's state and the base optimizer. */
  override dispose(): void {
    this.state?.dispose();
    disposeOptimizer(this.base);
    super.dispose();
  }

  /** Scalar state of the wrapper, saved as `<prefix>scalar/<name>`. */
  protected scalarState(): Record<string, number> {
    return {};
  }

  protected restoreScalarState(_values: Record<string, number>): void {}

  override async getWeights(): Promise<NamedTensor[]> {
    const baseWeights = await this.base.getWeights();
    return [
      await this.saveIterations(),
      ...Object.entries(this.scalarState()).map(([name, value]) => ({
        name: `${this.prefix}scalar/${name}`,
        tensor: tf.scalar(value, 'float32'),
      })),
      ...(this.state?.toNamedTensors(`${this.prefix}state/`) ?? []),
      ...accumulatedPowers(this.base).map((w) => ({
        name: `${this.prefix}base/${w.name}`,
        tensor: w.tensor,
      })),
      ...baseWeights.map((w) => ({ name: `${BASE_PREFIX}${w.name}`, tensor: w.tensor })),
    ];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const iteration = weightValues.find((w) => w.name === 'iter');
    if (iteration !== undefined) this.iterations_ = (await iteration.tensor.data())[0] as number;
    const scalarPrefix = `${this.prefix}scalar/`;
    const scalars: Record<string, number> = {};
    for (const w of weightValues.filter((v) => v.name.startsWith(scalarPrefix))) {
      scalars[w.name.slice(scalarPrefix.length)] = (await w.tensor.data())[0] as number;
    }
    this.restoreScalarState(scalars);
    const statePrefix = `${this.prefix}state/`;
    this.state?.load(
      weightValues.filter((w) => w.name.startsWith(statePrefix)),
      statePrefix,
    );
    const baseWeights = stripPrefix(weightValues, BASE_PREFIX);
    if (baseWeights.length > 0) await this.base.setWeights(baseWeights);
    restoreAccumulatedPowers(this.base, stripPrefix(weightValues, `${this.prefix}base/`));
  }

  /** The serializable options, then the base as `{className, config}`. */
  getConfig(): tf.serialization.ConfigDict {
    return {
      ...serializableOptions(this.schema, this.settings),
      base: serializeOptimizer(this.base) as unknown as tf.serialization.ConfigDict,
    };
  }

  /** Rebuilds a wrapper: every config key but `base` is passed as an option. */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    const base = deserializeOptimizer(config['base'], cls.className);
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(config)) {
      if (key !== 'base' && key !== 'customObjects' && value != null) options[key] = value;
    }
    return new cls(base, options);
  }
}

/**
 * `minimize`'s contract for a wrapper whose own one-call step returns the loss: the loss when
 * `returnCost`, otherwise nothing (the loss disposed).
 */
export function lossOrNothing(loss: tf.Scalar, returnCost: boolean): tf.Scalar | null {
  if (returnCost) return loss;
  loss.dispose();
  return null;
}

function stripPrefix(weights: readonly NamedTensor[], prefix: string): NamedTensor[] {
  return weights
    .filter((w) => w.name.startsWith(prefix))
    .map((w) => ({ name: w.name.slice(prefix.length), tensor: w.tensor }));
}
