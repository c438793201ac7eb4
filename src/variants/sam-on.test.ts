import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
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
