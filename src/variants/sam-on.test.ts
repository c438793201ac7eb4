import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { assertClose } from '../testing/problems.js';
import { SAMON, samOn } from './sam-on.js';

function modelWithBatchNorm(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 6,
        inputShape: [4],
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
      tfl.layers.batchNormalization(),
      tfl.layers.dense({
        units: 1,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: SAM-ON perturbs only normalization scale and offset, with ‖ε‖ = ρ over them`, async () => {
    await useBackend(backend);
    const model = modelWithBatchNorm();
    const x = tf.randomNormal([8, 4], 0, 1, 'float32', 3);
    const y = tf.randomNormal([8, 1], 0, 1, 'float32', 4);
    const variables = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const loss = () =>
      tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const before = variables.map((v) => Array.from(v.dataSync()));
    const optimizer = samOn(tf.train.sgd(0.1), { rho: 0.3 });
    const first = tf.variableGrads(loss, variables);
    optimizer.firstStep(first.grads);
    const moved = variables.map((v, i) =>
      Array.from(v.dataSync()).map((value, j) => value - (before[i]?.[j] as number)),
    );
    const isNormalization = variables.map(
      (v) => /batch_normalization/.test(v.name) && /(gamma|beta)$/.test(v.name),
    );
    assert.deepEqual(isNormalization.filter(Boolean).length, 2);
    moved.forEach((delta, i) => {
      const size = Math.hypot(...delta);
      if (isNormalization[i]) assert.ok(size > 0, `${variables[i]?.name} should move`);
      else assert.equal(size, 0, `${variables[i]?.name} must not move`);
    });
    const total = Math.hypot(...moved.flat());
    assert.ok(Math.abs(total - 0.3) < 1e-5, `‖ε‖ = ${total}`);
    const second = tf.variableGrads(loss, variables);
    optimizer.secondStep(second.grads);
    // every variable is updated, kernels included
    variables.forEach((v, i) => assert.notDeepEqual(Array.from(v.dataSync()), before[i], v.name));
    tf.dispose([
      x,
      y,
      first.value,
      second.value,
      ...Object.values(first.grads),
      ...Object.values(second.grads),
    ]);
    optimizer.dispose();
    model.dispose();
  });
}

test('SAM-ON explains a model without normalization layers, and round-trips a custom pattern', async () => {
  await useBackend('cpu');
  const w = tf.variable(tf.ones([2]), true, 'dense_Dense99/kernel');
  const optimizer = samOn(tf.train.sgd(0.1));
  assert.throws(
    () => optimizer.step(() => tf.sum(tf.square(w)) as tf.Scalar, [w]),
    /none of the 1 trained variables \('dense_Dense99\/kernel'\) matches variablePattern/,
  );
  optimizer.dispose();
  w.dispose();
  assert.throws(
    () => samOn(tf.train.sgd(0.1), { variablePattern: '(' }),
    /option 'variablePattern' is '\('; expected a valid regular expression/,
  );
  const custom = samOn(tf.train.sgd(0.1), { variablePattern: 'my_layer_\\d+/kernel' });
  const copy = SAMON.fromConfig(SAMON, JSON.parse(JSON.stringify(custom.getConfig()))) as SAMON;
  assert.equal(copy.variablePattern, 'my_layer_\\d+/kernel');
});

/** A dense layer, a BatchNormalization the user named `bn1`, a dense output. */
function modelWithNamedNorm(): tfl.LayersModel {
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        units: 5,
        inputShape: [3],
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
      }),
      tfl.layers.batchNormalization({ name: `bn1_${Math.random().toString(36).slice(2, 8)}` }),
      tfl.layers.dense({
        units: 2,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 6 }),
      }),
    ],
  });
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: SAM-ON's ε is ρ·g/‖g‖ over the normalization variables and the update is the base's at w + ε, by value`, async () => {
    await useBackend(backend);
    const model = modelWithNamedNorm();
    const x = tf.randomNormal([6, 3], 0, 1, 'float32', 8);
    const y = tf.randomNormal([6, 2], 0, 1, 'float32', 9);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = () =>
      tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
    const optimizer = samOn(tf.train.sgd(0.1));
    optimizer.useModel(model);
    assert.equal(optimizer.rho, 0.5, "the official code's default");
    assert.equal(optimizer.epsilon, 1e-16);
    const before = variables.map((v) => Array.from(v.dataSync()));
    const first = tf.variableGrads(loss, variables);
    const isNorm = variables.map((v) => /bn1_/.test(v.name));
    const g = variables.map((v) => Array.from((first.grads[v.name] as tf.Tensor).dataSync()));
    const gNorm = Math.hypot(...g.filter((_, i) => isNorm[i]).flat());
    optimizer.firstStep(first.grads);
    variables.forEach((v, i) => {
      const expected = (before[i] as number[]).map((w, j) =>
        isNorm[i] ? w + (0.5 * ((g[i] as number[])[j] as number)) / gNorm : w,
      );
      assertClose(Array.from(v.dataSync()), expected, 1e-5, `w + ε, ${v.name}`);
    });
    const second = tf.variableGrads(loss, variables);
    const gAt = variables.map((v) => Array.from((second.grads[v.name] as tf.Tensor).dataSync()));
    optimizer.secondStep(second.grads);
    variables.forEach((v, i) =>
      assertClose(
        Array.from(v.dataSync()),
        (before[i] as number[]).map((w, j) => w - 0.1 * ((gAt[i] as number[])[j] as number)),
        1e-5,
        `w − lr·g(w + ε), ${v.name}`,
      ),
    );
    tf.dispose([
      x,
      y,
      first.value,
      second.value,
      ...Object.values(first.grads),
      ...Object.values(second.grads),
    ]);
    optimizer.dispose();
    model.dispose();
  });
}

test("SAM-ON finds normalization layers by class with the model, by tfjs' weight names without it", async () => {
  await useBackend('cpu');
  const model = modelWithNamedNorm();
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const norm = variables.filter((v) => /bn1_/.test(v.name)).map((v) => v.name);
  const perturbed = (optimizer: SAMON) =>
    variables
      .filter((_, i) => optimizer.perturbationPlan(variables).perturbedMask[i])
      .map((v) => v.name);
  // A user-named layer ('bn1…', no "normalization" in its name) is found either way.
  assert.deepEqual(perturbed(samOn(tf.train.sgd(0.1))), norm);
  const withModel = samOn(tf.train.sgd(0.1));
  withModel.useModel(model);
  assert.deepEqual(perturbed(withModel), norm);
  // A pattern that leaves a normalization layer out is an error naming it, once the model is known.
  const narrow = samOn(tf.train.sgd(0.1), { variablePattern: '/gamma$' });
  assert.throws(
    () => narrow.useModel(model),
    /variablePattern \/\/gamma\$\/i leaves out the normalization layer 'bn1_\w+' \(BatchNormalization\)/,
  );
  // A model without normalization layers: the step says so.
  const plain = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [2] })] });
  const none = samOn(tf.train.sgd(0.1));
  none.useModel(plain);
  const w = plain.trainableWeights.map((v) => v.read() as tf.Variable);
  const x = tf.ones([1, 2]);
  assert.throws(
    () => none.step(() => tf.sum(plain.apply(x) as tf.Tensor) as tf.Scalar, w),
    /the model has no normalization layer \(BatchNormalization, LayerNormalization, GroupNormalization, LayerNorm\)/,
  );
  x.dispose();
  plain.dispose();
  model.dispose();
});
