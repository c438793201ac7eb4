/**
 * Gradient accumulation: `stepAccumulated` over parts of a batch is the step on the whole batch,
 * for every registered method that declares it, with parts of unequal sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { AccumulatedStepping } from './method.js';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { capabilitiesOf } from '../toolkit/capabilities.js';
import { METHODS } from '../variants/registry.js';
import { sam } from './sam.js';
import { esam } from '../variants/esam.js';
import { sampa } from '../variants/sampa.js';

let counter = 0;

/**
 * y = (x·W + b)·γ + β against targets over 12 examples, mean squared error of the rows given; γ
 * and β are named as a tfjs normalization layer's weights (so SAM-ON finds them), and every tensor
 * starts away from zero, so that the relative error of each measures rounding, not a tiny scale.
 */
function problem() {
  const x = tf.randomNormal([12, 4], 0, 1, 'float32', 21);
  const y = tf.randomNormal([12, 2], 0, 1, 'float32', 22);
  const init: Array<[string, tf.Tensor]> = [
    ['dense/kernel', tf.randomNormal([4, 2], 0, 0.5, 'float32', 23)],
    ['dense/bias', tf.randomNormal([2], 0, 0.5, 'float32', 24)],
    ['norm/gamma', tf.randomNormal([2], 1, 0.1, 'float32', 25)],
    ['norm/beta', tf.randomNormal([2], 0, 0.5, 'float32', 26)],
  ];
  const make = () =>
    init.map(([name, value]) => tf.variable(value, true, `accumulate_${counter++}/${name}`));
  const loss =
    (variables: tf.Variable[], start = 0, size = 12) =>
    () =>
      tf.tidy(() => {
        const [w, b, gamma, beta] = variables as [
          tf.Variable,
          tf.Variable,
          tf.Variable,
          tf.Variable,
        ];
        const rows = tf.slice(x, start, size);
        const out = tf.add(tf.mul(tf.add(tf.matMul(rows, w), b), gamma), beta);
        return tf.mean(tf.square(tf.sub(out, tf.slice(y, start, size)))) as tf.Scalar;
      });
  return { make, loss, dispose: () => tf.dispose([x, y, ...init.map(([, t]) => t)]) };
}

/** Parts of 5, 3 and 4 examples, each its own mean loss with its size. */
const PARTS = [
  [0, 5],
  [5, 3],
  [8, 4],
] as const;

const values = (vs: readonly tf.Variable[]) => vs.map((v) => Array.from(v.dataSync()));

function assertRelativelyClose(ours: number[][], reference: number[][], label: string): void {
  ours.forEach((tensor, i) => {
    const ref = reference[i] as number[];
    const scale = Math.max(...ref.map(Math.abs)) + 1e-8;
    const diff = Math.max(...tensor.map((v, j) => Math.abs(v - (ref[j] as number))));
    assert.ok(diff / scale <= 1e-5, `${label}: tensor ${i} differs by ${diff / scale} (relative)`);
  });
}

const SETTINGS: Array<{ label: string; build: () => tf.Optimizer }> = [
  { label: 'SAM over SGD', build: () => sam(tf.train.sgd(0.1), { rho: 0.1 }) },
  { label: 'SAM over momentum', build: () => sam(tf.train.momentum(0.05, 0.9), { rho: 0.1 }) },
  { label: 'SAM over Adam', build: () => sam(tf.train.adam(0.01), { rho: 0.1 }) },
  { label: 'ASAM', build: () => sam(tf.train.momentum(0.05, 0.9), { adaptive: true }) },
  ...METHODS.flatMap((method) =>
    [{}, ...(method.variants ?? [])].map((options) => ({
      label: `${method.name}(${JSON.stringify(options)})`,
      build: () =>
        method.create(
          method.bases === undefined || method.bases.includes('momentum')
            ? tf.train.momentum(0.05, 0.9)
            : tf.train.adam(0.01),
          { ...options },
        ),
    })),
  ),
];

for (const backend of TEST_BACKENDS) {
  for (const { label, build } of SETTINGS) {
    test(`${backend}: ${label}: stepAccumulated over parts of 5, 3 and 4 is the step on all 12`, async (t) => {
      await useBackend(backend);
      const probe = build();
      const supported = capabilitiesOf(probe)?.gradientAccumulation === true;
      probe.dispose();
      if (!supported) {
        t.skip('capabilities.gradientAccumulation is false');
        return;
      }
      const p = problem();
      const [whole, parts] = [p.make(), p.make()];
      const [one, accumulated] = [build(), build()];
      for (let step = 0; step < 4; step++) {
        tf.dispose(one.minimize(p.loss(whole), true, whole) as tf.Scalar);
        const loss = (accumulated as tf.Optimizer & AccumulatedStepping).stepAccumulated(
          PARTS.map(([start, size]) => ({ loss: p.loss(parts, start, size), size })),
          parts,
        );
        loss.dispose();
      }
      assertRelativelyClose(values(parts), values(whole), label);
      one.dispose();
      accumulated.dispose();
      tf.dispose([...whole, ...parts]);
      p.dispose();
    });
  }

  test(`${backend}: stepAccumulated returns the mean loss at w and keeps tensors flat over 200 steps`, async () => {
    await useBackend(backend);
    const p = problem();
    const variables = p.make();
    const optimizer = sam(tf.train.momentum(0.05, 0.9), { rho: 0.1 });
    const parts = PARTS.map(([start, size]) => ({ loss: p.loss(variables, start, size), size }));
    const expected = p.loss(variables)();
    const loss = optimizer.stepAccumulated(parts, variables);
    assert.ok(Math.abs((loss.dataSync()[0] as number) - (expected.dataSync()[0] as number)) < 1e-5);
    tf.dispose([loss, expected]);
    const start = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) tf.dispose(optimizer.stepAccumulated(parts, variables));
    assert.equal(tf.memory().numTensors, start);
    optimizer.dispose();
    tf.dispose(variables);
    p.dispose();
  });
}

test('BatchNorm statistics: once per part in the first sweep, never in the second', async () => {
  await useBackend('cpu');
  const build = () =>
    tfl.sequential({
      layers: [
        tfl.layers.dense({
          units: 4,
          inputShape: [3],
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 7 }),
        }),
        tfl.layers.batchNormalization(),
        tfl.layers.dense({
          units: 1,
          kernelInitializer: tfl.initializers.glorotUniform({ seed: 8 }),
        }),
      ],
    });
  const x = tf.randomNormal([10, 3], 0, 1, 'float32', 9);
  const y = tf.randomNormal([10, 1], 0, 1, 'float32', 10);
  const statistics = (m: tfl.LayersModel) =>
    m.nonTrainableWeights.map((w) => Array.from((w.read() as tf.Tensor).dataSync()));
  const model = build();
  const reference = build();
  const part = (m: tfl.LayersModel, start: number, size: number) => () =>
    tf.losses.meanSquaredError(
      tf.slice(y, start, size),
      m.apply(tf.slice(x, start, size), { training: true }) as tf.Tensor,
    ) as tf.Scalar;
  const optimizer = sam(tf.train.sgd(0.1), { rho: 0.5 });
  tf.dispose(
    optimizer.stepAccumulated(
      [
        { loss: part(model, 0, 6), size: 6 },
        { loss: part(model, 6, 4), size: 4 },
      ],
      model.trainableWeights.map((w) => w.read() as tf.Variable),
    ),
  );
  // The reference: one training forward pass per part, at the weights before the step.
  tf.dispose([part(reference, 0, 6)(), part(reference, 6, 4)()]);
  assert.deepEqual(statistics(model), statistics(reference));
  optimizer.dispose();
  tf.dispose([x, y]);
  model.dispose();
  reference.dispose();
});

test('stepAccumulated and stepMSharpness refuse misuse with what to do', async () => {
  await useBackend('cpu');
  const p = problem();
  const variables = p.make();
  const optimizer = sam(tf.train.sgd(0.1));
  assert.throws(
    () => optimizer.stepAccumulated([], variables),
    /non-empty array of part loss functions/,
  );
  assert.throws(
    () => optimizer.stepAccumulated([() => tf.ones([2]) as unknown as tf.Scalar], variables),
    /part 0's loss has shape \[2\]; each part must return its mean loss as a scalar/,
  );
  assert.throws(
    () =>
      optimizer.stepAccumulated(
        [p.loss(variables), { loss: p.loss(variables), size: 3 }],
        variables,
      ),
    /give every part a size \(\{loss, size\}\) or none/,
  );
  assert.throws(
    () => optimizer.stepAccumulated([{ loss: p.loss(variables), size: 0 }], variables),
    /part 0 is .*expected a loss function or \{loss: \(\) => mean loss, size: examples > 0\}/,
  );
  assert.throws(
    () => esam(tf.train.sgd(0.1)).stepAccumulated([p.loss(variables)], variables),
    /ESAM cannot accumulate its step over parts \(its capabilities.gradientAccumulation is false\)/,
  );
  assert.equal(capabilitiesOf(sampa(tf.train.sgd(0.1)))?.gradientAccumulation, false);
  optimizer.dispose();
  tf.dispose(variables);
  p.dispose();
});

test('m-sharpness weighs the parts by their sizes', async () => {
  await useBackend('cpu');
  const p = problem();
  const [weighted, byHand] = [p.make(), p.make()];
  const optimizer = sam(tf.train.sgd(0.1), { rho: 0.1 });
  tf.dispose(
    optimizer.stepMSharpness(
      [
        { loss: p.loss(weighted, 0, 9), size: 9 },
        { loss: p.loss(weighted, 9, 3), size: 3 },
      ],
      weighted,
    ),
  );
  // By hand: each part's SAM gradient, then 0.75·first + 0.25·second.
  const samGradient = (start: number, size: number) => {
    const at = byHand.map((v) => tf.clone(v));
    const g = tf.variableGrads(p.loss(byHand, start, size), byHand);
    const grads = byHand.map((v) => g.grads[v.name] as tf.Tensor);
    const norm = Math.hypot(...grads.flatMap((t) => Array.from(t.dataSync())));
    byHand.forEach((v, i) =>
      v.assign(tf.add(v, tf.mul(grads[i] as tf.Tensor, 0.1 / (norm + 1e-12)))),
    );
    const second = tf.variableGrads(p.loss(byHand, start, size), byHand);
    const out = byHand.map((v) => Array.from((second.grads[v.name] as tf.Tensor).dataSync()));
    byHand.forEach((v, i) => v.assign(at[i] as tf.Tensor));
    tf.dispose([
      ...at,
      g.value,
      second.value,
      ...Object.values(g.grads),
      ...Object.values(second.grads),
    ]);
    return out;
  };
  const [first, second] = [samGradient(0, 9), samGradient(9, 3)];
  const expected = values(byHand).map((w, i) =>
    w.map(
      (v, j) =>
        v -
        0.1 *
          (0.75 * ((first[i] as number[])[j] as number) +
            0.25 * ((second[i] as number[])[j] as number)),
    ),
  );
  assertRelativelyClose(values(weighted), expected, 'weighted m-sharpness');
  optimizer.dispose();
  tf.dispose([...weighted, ...byHand]);
  p.dispose();
});
