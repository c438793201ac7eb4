/**
 * Where each variable of a model lives in the flat Float32Arrays that carry weights and gradients
 * between threads: trainable variables first, then non-trainable state (BatchNorm moving
 * statistics), each in the model's own order, concatenated.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { floatView } from '../backend/index.js';

export interface VariableSlot {
  offset: number;
  size: number;
}

export interface VariableLayout {
  trainable: tf.Variable[];
  state: tf.Variable[];
  trainableSlots: VariableSlot[];
  stateSlots: VariableSlot[];
  /** Floats taken by the trainable variables (the gradient section). */
  trainableSize: number;
  /** Floats taken by trainable variables and state together. */
  totalSize: number;
}

function slotsOf(variables: readonly tf.Variable[], start: number): VariableSlot[] {
  let offset = start;
  return variables.map((v) => {
    const slot = { offset, size: v.size };
    offset += v.size;
    return slot;
  });
}

/** The layout of `model`'s variables; every one must be float32. */
export function modelLayout(model: tfl.LayersModel): VariableLayout {
  const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const state = model.nonTrainableWeights.map((w) => w.read() as tf.Variable);
  const notFloat = [...trainable, ...state].find((v) => v.dtype !== 'float32');
  if (notFloat !== undefined) {
    throw new Error(
      `data-parallel training carries float32 variables only; '${notFloat.name}' is ${notFloat.dtype}.`,
    );
  }
  const trainableSlots = slotsOf(trainable, 0);
  const trainableSize = trainable.reduce((sum, v) => sum + v.size, 0);
  const stateSlots = slotsOf(state, trainableSize);
  const totalSize = trainableSize + state.reduce((sum, v) => sum + v.size, 0);
  return { trainable, state, trainableSlots, stateSlots, trainableSize, totalSize };
}

/** A tensor's values: a view of the wasm heap (valid until the next allocation), else a copy. */
function valuesOf(tensor: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm') return floatView(tf.backend(), tensor);
  return tensor.dataSync() as Float32Array;
}

/** As valuesOf for a float32 or int32 tensor (a batch's inputs may be token ids). */
export function numericValuesOf(tensor: tf.Tensor): Float32Array | Int32Array {
  return tensor.dtype === 'float32'
    ? valuesOf(tensor)
    : (tensor.dataSync() as Float32Array | Int32Array);
}

/** Copies the current values of `variables` into `target` at their slots. */
export function writeVariables(
  variables: readonly tf.Variable[],
  slots: readonly VariableSlot[],
  target: Float32Array,
): void {
  variables.forEach((v, i) => target.set(valuesOf(v), (slots[i] as VariableSlot).offset));
}

/**
 * A float32 tensor of `source[offset, offset + size)`. The wasm backend copies the values into its
 * heap when the tensor is made; the cpu backend keeps the array, so it gets a private copy (the
 * source is reused, or shared with another thread).
 */
export function tensorFrom(
  source: Float32Array,
  offset: number,
  size: number,
  shape: readonly number[],
): tf.Tensor {
  const values =
    tf.getBackend() === 'wasm'
      ? source.subarray(offset, offset + size)
      : source.slice(offset, offset + size);
  return tf.tensor(values, [...shape], 'float32');
}

/** The trainable section of `values` as one tensor per trainable variable (the caller frees them). */
export function sectionTensors(layout: VariableLayout, values: Float32Array): tf.Tensor[] {
  return layout.trainable.map((v, i) => {
    const { offset, size } = layout.trainableSlots[i] as VariableSlot;
    return tensorFrom(values, offset, size, v.shape);
  });
}

/** Assigns each variable the values at its slot of `source`. */
export function readVariables(
  variables: readonly tf.Variable[],
  slots: readonly VariableSlot[],
  source: Float32Array,
): void {
  tf.tidy(() =>
    variables.forEach((v, i) => {
      const { offset, size } = slots[i] as VariableSlot;
      v.assign(tensorFrom(source, offset, size, v.shape));
    }),
  );
}

/** Writes each tensor's values into `target` at the matching slot. */
export function writeTensors(
  tensors: readonly tf.Tensor[],
  slots: readonly VariableSlot[],
  target: Float32Array,
): void {
  tensors.forEach((t, i) => target.set(valuesOf(t), (slots[i] as VariableSlot).offset));
}
