import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { AdamW, adamw } from './adamw.js';

let counter = 0;

/** Float64 reference of PyTorch's AdamW for one scalar parameter with loss ½·p². */
function referenceTrajectory(
  p0: number,
  steps: number,
  o: Required<ConstructorParameters<typeof AdamW>[0]> & object,
) {
  let p = p0;
  let m = 0;
  let v = 0;
  const out: number[] = [];
  for (let t = 1; t <= steps; t++) {
    const g = p;
    p *= 1 - o.learningRate * o.weightDecay;
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g * g;
    const denominator = Math.sqrt(v) / Math.sqrt(1 - o.beta2 ** t) + o.epsilon;
    p -= (o.learningRate / (1 - o.beta1 ** t)) * (m / denominator);
    out.push(p);
  }
  return out;
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: AdamW follows PyTorch's update over 20 steps`, async () => {
    await useBackend(backend);
    const options = {
      learningRate: 0.05,
      beta1: 0.8,
      beta2: 0.95,
      epsilon: 1e-6,
      weightDecay: 0.3,
    };
    const expected = referenceTrajectory(1.5, 20, options);
    const p = tf.variable(tf.tensor1d([1.5]), true, `adamw_test_${counter++}`);
    const optimizer = adamw(options);
    for (let t = 0; t < 20; t++) {
      optimizer.minimize(() => tf.mul(0.5, tf.sum(tf.square(p))) as tf.Scalar, false, [p]);
      const got = p.dataSync()[0] as number;
      assert.ok(
        Math.abs(got - (expected[t] as number)) <= 1e-5 * Math.abs(expected[t] as number),
        `step ${t}: ${got} vs ${expected[t]}`,
      );
    }
    assert.equal(optimizer.iterations, 20);
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: AdamW weights round trip by name and keep tensor counts flat`, async () => {
    await useBackend(backend);
    const a = tf.variable(tf.tensor1d([1, -2]), true, `adamw_test_${counter++}`);
    const b = tf.variable(tf.tensor2d([[0.5]]), true, `adamw_test_${counter++}`);
    const loss = () => tf.add(tf.sum(tf.square(a)), tf.sum(tf.abs(b))) as tf.Scalar;
    const optimizer = new AdamW({ learningRate: 0.01 });
    optimizer.minimize(loss, false, [a, b]);
    const start = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) optimizer.minimize(loss, false, [a, b]);
    assert.equal(tf.memory().numTensors, start);
    const saved = await optimizer.getWeights();
    assert.deepEqual(
      saved.map((w) => w.name),
      ['iter', `${a.name}/m`, `${a.name}/v`, `${b.name}/m`, `${b.name}/v`],
    );
    // Load in reverse order: state is matched by name, not position.
    const restored = new AdamW({ learningRate: 0.01 });
    await restored.setWeights([saved[0]!, ...saved.slice(1).reverse()]);
    const snapshot = [Array.from(a.dataSync()), Array.from(b.dataSync())];
    optimizer.minimize(loss, false, [a, b]);
    const next = [Array.from(a.dataSync()), Array.from(b.dataSync())];
    a.assign(tf.tensor1d(snapshot[0] as number[]));
    b.assign(tf.tensor2d([snapshot[1] as number[]]));
    restored.minimize(loss, false, [b, a]);
    assert.deepEqual([Array.from(a.dataSync()), Array.from(b.dataSync())], next);
    [optimizer, restored].forEach((o) => o.dispose());
    tf.dispose([a, b]);
  });
}

test('AdamW config round trip, registration and option validation', () => {
  const optimizer = new AdamW({ learningRate: 0.002, weightDecay: 0.05 });
  const config = optimizer.getConfig();
  assert.deepEqual(config, {
    learningRate: 0.002,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    weightDecay: 0.05,
  });
  const copy = AdamW.fromConfig(AdamW, config) as AdamW;
  assert.deepEqual(copy.getConfig(), config);
  assert.equal(tf.serialization.SerializationMap.getMap().classNameMap['AdamW']?.[0], AdamW);
  assert.throws(
    () => new AdamW({ beta1: 1 }),
    /option 'beta1' is 1; expected a finite number >= 0 and < 1/,
  );
  assert.throws(() => new AdamW({ weightDecay: -1 }), /option 'weightDecay' is -1/);
  assert.throws(() => new AdamW({ lr: 0.1 } as never), /unknown option 'lr'/);
});

test('AdamW refuses state saved for different variables', async () => {
  await useBackend('cpu');
  const a = tf.variable(tf.zeros([2]), true, `adamw_test_${counter++}`);
  const other = new AdamW();
  await other.setWeights([
    { name: 'iter', tensor: tf.scalar(3) },
    { name: 'x/m', tensor: tf.zeros([5]) },
    { name: 'x/v', tensor: tf.zeros([5]) },
  ]);
  assert.throws(
    () => other.minimize(() => tf.sum(a) as tf.Scalar, false, [a]),
    /does not fit the variables being trained/,
  );
  other.dispose();
  a.dispose();
});
