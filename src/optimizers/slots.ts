/**
 * Per-variable optimizer state keyed by variable name (tfjs-core's own optimizers key theirs by
 * position in the gradient list). Saved as named tensors `<variable>/<slot>`; a saved set whose
 * names no longer exist (a model reloaded in the same process gets `_1`-suffixed names) is matched
 * by position when the count and every shape agree, and refused with a clear error otherwise.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from '../util/types.js';

export class NamedSlots {
  /** variable name → slot name → state variable; insertion order is the save order. */
  private readonly slots = new Map<string, Map<string, tf.Variable>>();
  private pending: Map<string, Map<string, tf.Tensor>> | null = null;

  constructor(
    private readonly owner: string,
    private readonly slotNames: readonly string[],
  ) {}

  has(variableName: string): boolean {
    return this.slots.has(variableName);
  }

  /** The slot of `variable`, created as zeros (or from loaded state) on first use. */
  get(variable: tf.Variable, slot: string): tf.Variable {
    let forVariable = this.slots.get(variable.name);
    if (forVariable === undefined) {
      forVariable = new Map();
      for (const name of this.slotNames) {
        forVariable.set(
          name,
          tf.tidy(() => tf.variable(tf.zerosLike(variable), false)),
        );
      }
      this.slots.set(variable.name, forVariable);
    }
    const state = forVariable.get(slot);
    if (state === undefined) {
      throw new Error(
        `${this.owner}: internal error, no slot '${slot}' (slots: ${this.slotNames.join(', ')}).`,
      );
    }
    return state;
  }

  /**
   * Before the first update after `load()`: binds the loaded state to `variables`, by name when
   * every name is known, else by position when counts and shapes agree.
   */
  bind(variables: readonly tf.Variable[]): void {
    const pending = this.pending;
    if (pending === null) return;
    this.pending = null;
    const savedNames = [...pending.keys()];
    const byName = variables.every((v) => pending.has(v.name));
    const matched: Array<[tf.Variable, Map<string, tf.Tensor>]> = [];
    if (byName) {
      for (const v of variables) matched.push([v, pending.get(v.name) as Map<string, tf.Tensor>]);
    } else if (
      savedNames.length === variables.length &&
      variables.every((v, i) => shapeOf(pending.get(savedNames[i] as string)) === v.shape.join(','))
    ) {
      variables.forEach((v, i) =>
        matched.push([v, pending.get(savedNames[i] as string) as Map<string, tf.Tensor>]),
      );
    } else {
      for (const slots of pending.values()) for (const t of slots.values()) t.dispose();
      const unknown = variables.filter((v) => !pending.has(v.name)).map((v) => v.name);
      throw new Error(
        `${this.owner}: the loaded optimizer state does not fit the variables being trained. ` +
          `No saved state for ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''}; ` +
          `saved for ${savedNames.length} variables, training ${variables.length}. ` +
          'Load the state into the same model architecture it was saved from.',
      );
    }
    for (const [variable, saved] of matched) {
      const forVariable = new Map<string, tf.Variable>();
      for (const slot of this.slotNames) {
        const value = saved.get(slot);
        forVariable.set(
          slot,
          value === undefined
            ? tf.tidy(() => tf.variable(tf.zerosLike(variable), false))
            : tf.variable(value, false),
        );
      }
      this.slots.get(variable.name)?.forEach((old) => old.dispose());
      this.slots.set(variable.name, forVariable);
    }
    for (const slots of pending.values()) for (const t of slots.values()) t.dispose();
  }

  /** Named tensors `<variable>/<slot>` (views of the live state, not copies). */
  toNamedTensors(prefix = ''): NamedTensor[] {
    const out: NamedTensor[] = [];
    for (const [variable, forVariable] of this.slots) {
      for (const [slot, state] of forVariable)
        out.push({ name: `${prefix}${variable}/${slot}`, tensor: state });
    }
    return out;
  }

  /** Replaces all state by saved named tensors (copied); binding happens at the next update. */
  load(named: readonly NamedTensor[], prefix = ''): void {
    this.dispose();
    const pending = new Map<string, Map<string, tf.Tensor>>();
    for (const { name, tensor } of named) {
      const local = name.startsWith(prefix) ? name.slice(prefix.length) : name;
      const cut = local.lastIndexOf('/');
      const slot = local.slice(cut + 1);
      if (cut < 0 || !this.slotNames.includes(slot)) {
        throw new Error(
          `${this.owner}: saved state '${name}' is not of the form <variable>/<slot> with a slot in ${this.slotNames.join(', ')}.`,
        );
      }
      const variable = local.slice(0, cut);
      if (!pending.has(variable)) pending.set(variable, new Map());
      (pending.get(variable) as Map<string, tf.Tensor>).set(slot, tf.keep(tf.clone(tensor)));
    }
    this.pending = pending.size > 0 ? pending : null;
  }

  dispose(): void {
    for (const forVariable of this.slots.values())
      for (const state of forVariable.values()) state.dispose();
    this.slots.clear();
    if (this.pending !== null) {
      for (const slots of this.pending.values()) for (const t of slots.values()) t.dispose();
      this.pending = null;
    }
  }
}

function shapeOf(slots: Map<string, tf.Tensor> | undefined): string {
  const first = slots?.values().next().value;
  return first === undefined ? '' : first.shape.join(',');
}
