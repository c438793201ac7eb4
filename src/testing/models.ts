/** Helpers shared by the model tests (under src/testing: never built or shipped). */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { saveAndReload } from './layers.js';

export function weightValues(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((weight) => weight.dataSync() as Float32Array);
}

/** Builds the model twice with one seed and once with another, and checks equality/difference. */
export function assertSeedDeterminism(build: (seed: number) => tfl.LayersModel): void {
  const first = build(7);
  const again = build(7);
  const other = build(8);
  try {
    const a = weightValues(first);
    assert.deepEqual(a, weightValues(again), 'same seed must give identical weights');
    const b = weightValues(other);
    const differing = a.filter((values, i) => !values.every((v, j) => v === b[i]![j]));
    // Only randomly initialized weights differ (biases, BatchNorm and LayerNorm start constant).
    assert.ok(differing.length > 0, 'different seeds must give different weights');
    for (const values of differing) assert.ok(values.some((v) => v !== 0));
  } finally {
    first.dispose();
    again.dispose();
    other.dispose();
  }
}

/** Compiles `model` with plain SGD and trains one step on (x, y); returns the loss. */
export async function fitOneStep(
  model: tfl.LayersModel,
  x: tf.Tensor,
  y: tf.Tensor,
): Promise<number> {
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'sparseCategoricalCrossentropy' });
  const history = await model.fit(x, y, { epochs: 1, batchSize: x.shape[0], verbose: 0 });
  const loss = history.history['loss']?.[0];
  assert.equal(typeof loss, 'number');
  return loss as number;
}

/** Integer class labels 0, 1, …, classes − 1, 0, 1, … as a float tensor of length `count`. */
export function cyclicLabels(count: number, classes: number): tf.Tensor1D {
  return tf.tensor1d(Array.from({ length: count }, (_, i) => i % classes));
}

/** Saves and reloads `model` (compiled) and checks that predictions on `x` are identical. */
export async function assertRoundTrip(model: tfl.LayersModel, x: tf.Tensor): Promise<void> {
  const reloaded = await saveAndReload(model);
  try {
    const before = (model.predict(x) as tf.Tensor).dataSync();
    const after = (reloaded.predict(x) as tf.Tensor).dataSync();
    assert.deepEqual(after, before);
    assert.deepEqual(
      reloaded.layers.map((layer) => layer.name),
      model.layers.map((layer) => layer.name),
    );
  } finally {
    reloaded.dispose();
  }
}

/** Asserts that `build` throws a ModelOptionError whose message matches every pattern. */
export function assertOptionError(build: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(build, (error: unknown) => {
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ModelOptionError');
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
}
