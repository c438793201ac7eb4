/**
 * One suite every registered method runs through (and each of the settings its entry names in
 * `variants`): a new method joins by its registry line. With ρ = 0 it is its base optimizer bit for
 * bit; a zero gradient gives no NaN; `tf.memory().numTensors` is flat over 200 steps; its
 * configuration survives a JSON round trip; saving and restoring its state mid-run continues
 * bit-identically; and a NaN loss is thrown or skipped as its `nonFinite` option says, the weights
 * left as they were.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import type {
  AccumulatedStepping,
  DataSelecting,
  MethodDefinition,
  PreviousBatchStepping,
} from '../core/method.js';
import { deserializeOptimizer, serializeOptimizer } from '../optimizers/registry.js';
import { capabilitiesOf } from '../toolkit/capabilities.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { METHODS } from './registry.js';

interface Setting {
  label: string;
  method: MethodDefinition;
  options: Record<string, unknown>;
}

const SETTINGS: Setting[] = METHODS.flatMap((method) => [
  { label: method.name, method, options: {} },
  ...(method.variants ?? []).map((options) => ({
    label: `${method.name}(${JSON.stringify(options)})`,
    method,
    options: { ...options },
  })),
]);

let counter = 0;

/**
 * y = (x·W + b)·γ + β against targets, mean squared error per example; γ and β are named like
 * a tfjs LayerNormalization's, so that methods perturbing normalization layers find them.
 */
function problem(seed: number) {
  const prefix = `conformance_${counter++}`;
  const x = tf.randomNormal([12, 5], 0, 1, 'float32', seed);
  const y = tf.randomNormal([12, 3], 0, 1, 'float32', seed + 1);
  const init = {
    kernel: tf.randomNormal([5, 3], 0, 0.5, 'float32', seed + 2),
    bias: tf.zeros([3]),
    gamma: tf.ones([3]),
    beta: tf.zeros([3]),
  };
  const make = () =>
    Object.entries(init).map(([name, value]) =>
      tf.variable(
        value,
        true,
        `${prefix}_${counter++}/${name === 'gamma' || name === 'beta' ? 'layer_normalization' : 'dense'}/${name}`,
      ),
    );
  const perExample = (variables: tf.Variable[], scale = 1) => {
    const [kernel, bias, gamma, beta] = variables as [
      tf.Variable,
      tf.Variable,
      tf.Variable,
      tf.Variable,
    ];
    return (indices: tf.Tensor1D | null) => {
      const xs = indices === null ? x : tf.gather(x, indices);
      const ys = indices === null ? y : tf.gather(y, indices);
      const out = tf.add(tf.mul(tf.add(tf.matMul(xs, kernel), bias), gamma), beta);
      return tf.mul(tf.mean(tf.square(tf.sub(out, ys)), 1), scale) as tf.Tensor1D;
    };
  };
  return {
    make,
    perExample,
    dispose: () => tf.dispose([x, y, ...Object.values(init)]),
  };
}

function baseOf(method: MethodDefinition): tf.Optimizer {
  return method.bases === undefined || method.bases.includes('momentum')
    ? tf.train.momentum(0.05, 0.9)
    : tf.train.adam(0.01);
}

/**
 * One step the way the trainer takes it: per-example losses for a data-selecting method, the
 * previous batch (here the same one) for a method that takes it.
 */
function step(
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  perExample: (indices: tf.Tensor1D | null) => tf.Tensor1D,
): void {
  if (capabilitiesOf(optimizer)?.previousBatch === true) {
    const mean = () => tf.mean(perExample(null)) as tf.Scalar;
    tf.dispose(
      (optimizer as tf.Optimizer & PreviousBatchStepping).stepWithPrevious(mean, mean, variables),
    );
  } else if (capabilitiesOf(optimizer)?.dataSelection === true) {
    tf.dispose(
      (optimizer as tf.Optimizer & DataSelecting).stepWithDataSelection(perExample, variables),
    );
  } else {
    tf.dispose(
      optimizer.minimize(
        () => tf.mean(perExample(null)) as tf.Scalar,
        true,
        variables,
      ) as tf.Scalar,
    );
  }
}

function values(variables: readonly tf.Variable[]): number[][] {
  return variables.map((v) => Array.from(v.dataSync()));
}

for (const backend of TEST_BACKENDS) {
  for (const { label, method, options } of SETTINGS) {
    test(`${backend}: ${label} with rho 0 is its base optimizer, bit for bit`, async () => {
      await useBackend(backend);
      const p = problem(1);
      const [ours, reference] = [p.make(), p.make()];
      const optimizer = method.create(baseOf(method), { ...options, rho: 0 });
      const base = baseOf(method);
      for (let i = 0; i < 5; i++) {
        step(optimizer, ours, p.perExample(ours));
        step(base, reference, p.perExample(reference));
      }
      assert.deepEqual(values(ours), values(reference));
      optimizer.dispose();
      base.dispose();
      tf.dispose([...ours, ...reference]);
      p.dispose();
    });

    test(`${backend}: ${label} with a zero gradient stays finite and still`, async () => {
      await useBackend(backend);
      const p = problem(2);
      const variables = p.make();
      const before = values(variables);
      const optimizer = method.create(baseOf(method), options);
      for (let i = 0; i < 4; i++) step(optimizer, variables, p.perExample(variables, 0));
      assert.deepEqual(values(variables), before);
      optimizer.dispose();
      tf.dispose(variables);
      p.dispose();
    });

    test(`${backend}: ${label} keeps tf.memory().numTensors flat over 200 steps`, async () => {
      await useBackend(backend);
      const p = problem(3);
      const variables = p.make();
      const optimizer = method.create(baseOf(method), options);
      const loss = p.perExample(variables);
      for (let i = 0; i < 3; i++) step(optimizer, variables, loss);
      const start = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) step(optimizer, variables, loss);
      assert.equal(tf.memory().numTensors, start);
      optimizer.dispose();
      tf.dispose(variables);
      p.dispose();
    });

    test(`${backend}: ${label} accumulating over micro-batches keeps tensors flat over 200 steps`, async (t) => {
      await useBackend(backend);
      const p = problem(6);
      const variables = p.make();
      const optimizer = method.create(baseOf(method), options);
      if (capabilitiesOf(optimizer)?.gradientAccumulation !== true) {
        t.skip('capabilities.gradientAccumulation is false');
      } else {
        const perExample = p.perExample(variables);
        const part = (rows: number[]) => () =>
          tf.tidy(() => tf.mean(perExample(tf.tensor1d(rows, 'int32'))) as tf.Scalar);
        const parts = [
          { loss: part([0, 1, 2, 3, 4]), size: 5 },
          { loss: part([5, 6, 7, 8, 9, 10, 11]), size: 7 },
        ];
        const accumulated = optimizer as tf.Optimizer & AccumulatedStepping;
        for (let i = 0; i < 3; i++) tf.dispose(accumulated.stepAccumulated(parts, variables));
        const start = tf.memory().numTensors;
        for (let i = 0; i < 200; i++) tf.dispose(accumulated.stepAccumulated(parts, variables));
        assert.equal(tf.memory().numTensors, start);
      }
      optimizer.dispose();
      tf.dispose(variables);
      p.dispose();
    });

    test(`${backend}: ${label} survives a config round trip and resumes bit-identically`, async () => {
      await useBackend(backend);
      const p = problem(4);
      const [whole, resumed] = [p.make(), p.make()];
      const uninterrupted = method.create(baseOf(method), options);
      for (let i = 0; i < 8; i++) step(uninterrupted, whole, p.perExample(whole));

      const first = method.create(baseOf(method), options);
      for (let i = 0; i < 4; i++) step(first, resumed, p.perExample(resumed));
      const serialized = JSON.parse(JSON.stringify(serializeOptimizer(first)));
      const copy = deserializeOptimizer(serialized, 'conformance');
      assert.deepEqual(copy.getConfig(), first.getConfig(), 'configuration');
      assert.equal(copy.getClassName(), first.getClassName());
      await copy.setWeights(await first.getWeights());
      first.dispose();
      for (let i = 0; i < 4; i++) step(copy, resumed, p.perExample(resumed));
      assert.deepEqual(values(resumed), values(whole));
      uninterrupted.dispose();
      copy.dispose();
      tf.dispose([...whole, ...resumed]);
      p.dispose();
    });

    if ('nonFinite' in method.options) {
      test(`${backend}: ${label} throws or skips a NaN loss, leaving the weights as they were`, async () => {
        await useBackend(backend);
        const p = problem(5);
        const variables = p.make();
        const skipping = method.create(baseOf(method), { ...options, nonFinite: 'skip' });
        step(skipping, variables, p.perExample(variables));
        const before = values(variables);
        step(skipping, variables, p.perExample(variables, NaN));
        assert.deepEqual(values(variables), before, 'skip');
        assert.equal((skipping as unknown as { skippedSteps: number }).skippedSteps, 1);
        const throwing = method.create(baseOf(method), options);
        assert.throws(
          () => step(throwing, variables, p.perExample(variables, NaN)),
          /non-finite values at step 0/,
        );
        assert.deepEqual(values(variables), before, 'throw');
        skipping.dispose();
        throwing.dispose();
        tf.dispose(variables);
        p.dispose();
      });
    }
  }
}

test('the registry names each method once, each with a title, a paper and options', () => {
  const names = METHODS.map((m) => m.name);
  assert.equal(new Set(names).size, names.length, `names: ${names.join(', ')}`);
  for (const method of METHODS) {
    assert.ok(method.title.length > 0 && method.paper.length > 0 && method.summary.length > 0);
    assert.ok(Object.keys(method.options).length > 0, `${method.name} has options`);
  }
});
