import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { SAM, asam, sam } from './sam.js';
import { AdamW } from '../optimizers/adamw.js';

let counter = 0;
const unique = (name: string) => `sam_test_${counter++}_${name}`;

/** L(w) = ½(w₁² + 4w₂²): gradient (w₁, 4w₂). */
function quadratic(w: tf.Variable): () => tf.Scalar {
  return () => tf.mul(0.5, tf.sum(tf.mul(tf.tensor1d([1, 4]), tf.square(w)))) as tf.Scalar;
}

/** A tiny regression problem: loss = mean((x·W + b − y)²). */
function regression(seed: number) {
  const x = tf.randomNormal([16, 5], 0, 1, 'float32', seed);
  const y = tf.randomNormal([16, 2], 0, 1, 'float32', seed + 1);
  const w = tf.variable(tf.randomNormal([5, 2], 0, 0.5, 'float32', seed + 2), true, unique('w'));
  const b = tf.variable(tf.zeros([2]), true, unique('b'));
  const loss = () => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), b)) as tf.Scalar;
  return { x, y, w, b, variables: [w, b], loss, dispose: () => tf.dispose([x, y, w, b]) };
}

for (const backend of TEST_BACKENDS) {
  test(`${backend}: one SAM step on the quadratic matches the hand-derived result`, async () => {
    await useBackend(backend);
    const w = tf.variable(tf.tensor1d([1, 1]), true, unique('q'));
    const optimizer = sam(tf.train.sgd(0.1), { rho: 0.05 });
    const loss = optimizer.step(quadratic(w), [w]);
    // g = (1, 4), ε = 0.05·g/√17, g_sam = (1.012127, 4·1.048507), w' = w − 0.1·g_sam.
    const [w1, w2] = Array.from(w.dataSync());
    assert.ok(Math.abs((w1 as number) - 0.898787) < 1e-6, `w1 = ${w1}`);
    assert.ok(Math.abs((w2 as number) - 0.580597) < 1e-6, `w2 = ${w2}`);
    assert.ok(Math.abs((loss.dataSync()[0] as number) - 2.5) < 1e-6, 'returns the loss at w');
    loss.dispose();
    optimizer.dispose();
    w.dispose();
  });

  test(`${backend}: multi-step SAM takes k ascent steps of rho/k along the current gradient`, async () => {
    await useBackend(backend);
    const w = tf.variable(tf.tensor1d([1, 1]), true, unique('multi'));
    const optimizer = sam(tf.train.sgd(0.1), { rho: 0.05, ascentSteps: 3 });
    tf.dispose(optimizer.step(quadratic(w), [w]));
    // float64 by hand: w_{i+1} = w_i + (ρ/3)·∇L(w_i)/‖∇L(w_i)‖, ∇L(w) = (w₁, 4w₂).
    let point = [1, 1];
    for (let i = 0; i < 3; i++) {
      const g = [point[0] as number, 4 * (point[1] as number)];
      const n = Math.hypot(g[0] as number, g[1] as number);
      point = point.map((p, j) => p + ((0.05 / 3) * (g[j] as number)) / n);
    }
    const expected = [1 - 0.1 * (point[0] as number), 1 - 0.1 * 4 * (point[1] as number)];
    Array.from(w.dataSync()).forEach((v, i) =>
      assert.ok(Math.abs(v - (expected[i] as number)) < 1e-6, `${v} vs ${expected[i]}`),
    );
    const first = tf.variableGrads(quadratic(w), [w]);
    assert.throws(
      () => optimizer.firstStep(first.grads),
      /ascentSteps is 3; multi-step ascent needs the loss function/,
    );
    tf.dispose([first.value, ...Object.values(first.grads)]);
    optimizer.dispose();
    w.dispose();
  });

  test(`${backend}: firstStep/secondStep equal step() bit for bit`, async () => {
    await useBackend(backend);
    const a = regression(1);
    const b = regression(1);
    const oneCall = sam(tf.train.momentum(0.05, 0.9), { rho: 0.1 });
    const twoCall = sam(tf.train.momentum(0.05, 0.9), { rho: 0.1 });
    for (let i = 0; i < 5; i++) {
      tf.dispose(oneCall.step(a.loss, a.variables));
      const first = tf.variableGrads(b.loss, b.variables);
      assert.equal(twoCall.firstStep(first.grads), true);
      assert.equal(twoCall.isPerturbed, true);
      const second = tf.variableGrads(b.loss, b.variables);
      assert.equal(twoCall.secondStep(second.grads), true);
      tf.dispose([
        first.value,
        second.value,
        ...Object.values(first.grads),
        ...Object.values(second.grads),
      ]);
    }
    assert.deepEqual(Array.from(a.w.dataSync()), Array.from(b.w.dataSync()));
    assert.deepEqual(Array.from(a.b.dataSync()), Array.from(b.b.dataSync()));
    assert.equal(oneCall.iterations, 5);
    [oneCall, twoCall].forEach((o) => o.dispose());
    a.dispose();
    b.dispose();
  });

  test(`${backend}: rho = 0 is bit-identical to the base optimizer`, async () => {
    await useBackend(backend);
    for (const makeBase of [
      () => tf.train.momentum(0.05, 0.9),
      () => tf.train.adam(0.01),
      () => new AdamW({ learningRate: 0.01 }),
    ]) {
      const plain = regression(7);
      const wrapped = regression(7);
      const base = makeBase();
      const optimizer = sam(makeBase(), { rho: 0 });
      for (let i = 0; i < 10; i++) {
        base.minimize(plain.loss, false, plain.variables);
        optimizer.minimize(wrapped.loss, false, wrapped.variables);
      }
      assert.deepEqual(
        Array.from(wrapped.w.dataSync()),
        Array.from(plain.w.dataSync()),
        base.getClassName(),
      );
      assert.deepEqual(
        Array.from(wrapped.b.dataSync()),
        Array.from(plain.b.dataSync()),
        base.getClassName(),
      );
      base.dispose();
      optimizer.dispose();
      plain.dispose();
      wrapped.dispose();
    }
  });

  test(`${backend}: a zero gradient gives a finite step (no NaN)`, async () => {
    await useBackend(backend);
    const w = tf.variable(tf.tensor1d([0, 0]), true, unique('zero'));
    const optimizer = sam(tf.train.sgd(0.1));
    tf.dispose(optimizer.step(quadratic(w), [w]));
    assert.deepEqual(Array.from(w.dataSync()), [0, 0]);
    optimizer.dispose();
    w.dispose();
  });

  test(`${backend}: clipNorm limits the gradient handed to the base`, async () => {
    await useBackend(backend);
    const w = tf.variable(tf.tensor1d([10, 10]), true, unique('clip'));
    const optimizer = sam(tf.train.sgd(1), { rho: 0, clipNorm: 0.5 });
    tf.dispose(optimizer.step(quadratic(w), [w]));
    const moved = Array.from(w.dataSync()).map((v) => 10 - v);
    assert.ok(Math.abs(Math.hypot(...moved) - 0.5) < 1e-5, `moved ${Math.hypot(...moved)}`);
    optimizer.dispose();
    w.dispose();
  });

  test(`${backend}: a non-finite loss throws naming the step and leaves everything untouched`, async () => {
    await useBackend(backend);
    const p = regression(3);
    const optimizer = sam(tf.train.momentum(0.05, 0.9));
    tf.dispose(optimizer.step(p.loss, p.variables));
    const before = Array.from(p.w.dataSync());
    const broken = () => tf.mul(p.loss(), tf.scalar(NaN)) as tf.Scalar;
    assert.throws(
      () => optimizer.step(broken, p.variables),
      /non-finite values at step 1: the loss at the current weights/,
    );
    assert.deepEqual(Array.from(p.w.dataSync()), before);
    assert.equal(optimizer.iterations, 1);
    assert.equal(optimizer.isPerturbed, false);
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: nonFinite 'skip' leaves weights and optimizer state untouched and reports it`, async () => {
    await useBackend(backend);
    const p = regression(4);
    const skips: string[] = [];
    const optimizer = sam(tf.train.momentum(0.05, 0.9), {
      nonFinite: 'skip',
      onSkip: (s) => skips.push(`${s.step}:${s.reason}`),
    });
    tf.dispose(optimizer.step(p.loss, p.variables));
    const weightsBefore = [Array.from(p.w.dataSync()), Array.from(p.b.dataSync())];
    const stateBefore = (await optimizer.getWeights()).map((w) => Array.from(w.tensor.dataSync()));
    // Finite at w, infinite at w + ε: the second pass fails.
    let calls = 0;
    const failsSecond = () => {
      calls += 1;
      return calls % 2 === 0 ? (tf.div(p.loss(), tf.scalar(0)) as tf.Scalar) : p.loss();
    };
    const loss = optimizer.step(failsSecond, p.variables);
    assert.ok(Number.isFinite(loss.dataSync()[0]));
    loss.dispose();
    assert.deepEqual([Array.from(p.w.dataSync()), Array.from(p.b.dataSync())], weightsBefore);
    const stateAfter = (await optimizer.getWeights()).map((w) => Array.from(w.tensor.dataSync()));
    assert.deepEqual(
      stateAfter.slice(0, 1).concat(stateAfter.slice(2)),
      stateBefore.slice(0, 1).concat(stateBefore.slice(2)),
    );
    assert.equal(optimizer.skippedSteps, 1);
    assert.equal(optimizer.iterations, 1);
    assert.deepEqual(skips.length, 1);
    assert.match(skips[0] as string, /^1:the loss at the perturbed weights/);
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: misuse of the two-call API gives clear errors`, async () => {
    await useBackend(backend);
    const p = regression(5);
    const optimizer = sam(tf.train.sgd(0.1));
    const g = tf.variableGrads(p.loss, p.variables);
    assert.throws(
      () => optimizer.secondStep(g.grads),
      /secondStep\(\) was called without a firstStep\(\)/,
    );
    optimizer.firstStep(g.grads);
    assert.throws(() => optimizer.firstStep(g.grads), /firstStep\(\) was called twice/);
    const perturbed = Array.from(p.w.dataSync());
    // Someone updates a trainable variable between the calls.
    p.w.assign(tf.onesLike(p.w));
    assert.throws(
      () => optimizer.secondStep(g.grads),
      new RegExp(`${p.w.name}.* changed between firstStep\\(\\) and secondStep\\(\\)`),
    );
    assert.notDeepEqual(Array.from(p.w.dataSync()), perturbed);
    assert.equal(optimizer.isPerturbed, false);
    assert.throws(
      () => optimizer.firstStep({ no_such_variable: g.value }),
      /no variable of that name exists/,
    );
    tf.dispose([g.value, ...Object.values(g.grads)]);
    optimizer.dispose();
    p.dispose();
  });

  test(`${backend}: tensor count is flat over 200 steps of each API`, async () => {
    await useBackend(backend);
    const p = regression(6);
    const apis: Array<[string, SAM, () => void]> = [];
    const viaStep = sam(tf.train.momentum(0.01, 0.9), { nonFinite: 'skip', clipNorm: 1 });
    apis.push(['step', viaStep, () => tf.dispose(viaStep.step(p.loss, p.variables))]);
    const viaMinimize = asam(new AdamW({ learningRate: 0.001 }));
    apis.push([
      'minimize',
      viaMinimize,
      () => void viaMinimize.minimize(p.loss, false, p.variables),
    ]);
    const viaTwoCalls = sam(tf.train.adam(0.001));
    apis.push([
      'firstStep/secondStep',
      viaTwoCalls,
      () => {
        const first = tf.variableGrads(p.loss, p.variables);
        viaTwoCalls.firstStep(first.grads);
        const second = tf.variableGrads(p.loss, p.variables);
        viaTwoCalls.secondStep(second.grads);
        tf.dispose([
          first.value,
          second.value,
          ...Object.values(first.grads),
          ...Object.values(second.grads),
        ]);
      },
    ]);
    for (const [name, optimizer, run] of apis) {
      run(); // slots are created on the first step
      const start = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) run();
      assert.equal(
        tf.memory().numTensors,
        start,
        `${name} leaks ${tf.memory().numTensors - start} tensors over 200 steps`,
      );
      optimizer.dispose();
    }
    p.dispose();
  });

  test(`${backend}: getConfig/fromConfig round trip with the base nested`, async () => {
    await useBackend(backend);
    const original = sam(tf.train.momentum(0.1, 0.9, true), {
      rho: 0.2,
      adaptive: true,
      eta: 0.1,
      clipNorm: 2,
      nonFinite: 'skip',
    });
    const config = original.getConfig();
    assert.deepEqual(config['base'], {
      className: 'Momentum',
      config: { learningRate: 0.1, momentum: 0.9, useNesterov: true },
    });
    const restored = SAM.fromConfig(SAM, { ...config, customObjects: {} }) as SAM;
    assert.deepEqual(restored.getConfig(), config);
    assert.equal(restored.getClassName(), 'SAM');
    const withAdamW = SAM.fromConfig(SAM, sam(new AdamW({ weightDecay: 0.05 })).getConfig()) as SAM;
    assert.equal((withAdamW.base as AdamW).weightDecay, 0.05);
    [original, restored, withAdamW].forEach((o) => o.dispose());
  });
}

test('every option is validated with its name, value and range', () => {
  const base = tf.train.sgd(0.1);
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ rho: -1 }, /option 'rho' is -1; expected a finite number >= 0/],
    [{ rho: NaN }, /option 'rho' is NaN/],
    [{ adaptive: 'yes' }, /option 'adaptive' is 'yes'; expected true or false/],
    [{ eta: -0.1 }, /option 'eta' is -0.1/],
    [{ epsilon: 0 }, /option 'epsilon' is 0; expected a finite number > 0/],
    [{ clipNorm: 0 }, /option 'clipNorm' is 0; expected a finite number > 0/],
    [{ nonFinite: 'ignore' }, /option 'nonFinite' is 'ignore'; expected one of 'throw', 'skip'/],
    [
      { adaptiveScope: 'biases' },
      /option 'adaptiveScope' is 'biases'; expected one of 'weights', 'all'/,
    ],
    [{ rhoSchedule: 3 }, /option 'rhoSchedule' is 3; expected a function/],
    [{ ascentSteps: 1.5 }, /option 'ascentSteps' is 1.5; expected an integer >= 1/],
    [{ roh: 0.1 }, /unknown option 'roh'. Known options: rho, /],
  ];
  for (const [options, message] of cases) assert.throws(() => sam(base, options as never), message);
  assert.throws(() => sam({} as tf.Optimizer), /first argument must be a tfjs optimizer/);
  assert.throws(
    () => sam(sam(base)),
    /base optimizer is itself a sharpness-aware optimizer \(SAM\)/,
  );
  assert.equal(sam(base, { adaptive: true }).rho, 0.5, 'ASAM default rho');
  assert.equal(sam(base).rho, 0.05, 'SAM default rho');
});

test('a rho schedule is called each step with the iteration and learning rate', async () => {
  await useBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, 1]), true, unique('sched'));
  const seen: Array<[number, number]> = [];
  const optimizer = sam(tf.train.sgd(0.1), {
    rhoSchedule: ({ iteration, learningRate }) => {
      seen.push([iteration, learningRate]);
      return iteration === 0 ? 0.05 : -1;
    },
  });
  tf.dispose(optimizer.step(quadratic(w), [w]));
  assert.deepEqual(seen, [[0, 0.1]]);
  assert.throws(
    () => optimizer.step(quadratic(w), [w]),
    /option 'rhoSchedule\(\.\.\.\) result' is -1/,
  );
  optimizer.dispose();
  w.dispose();
});
