import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { modelObjective } from './model-loss.js';
import { sharpnessReport } from './report.js';
import { adaptiveSharpness, mSharpness, robustnessCurve, worstCaseSharpness } from './sharpness.js';
import { hessianTrace } from './spectrum.js';
import { flatValues, matrixWithSpectrum, quadraticLoss } from '../testing/diagnostics.js';

function batchNormModel(): tfl.Sequential {
  const model = tfl.sequential();
  model.add(
    tfl.layers.dense({
      units: 4,
      inputShape: [3],
      activation: 'tanh',
      kernelInitializer: tfl.initializers.glorotNormal({ seed: 1 }),
    }),
  );
  model.add(tfl.layers.batchNormalization({ momentum: 0.5 }));
  model.add(
    tfl.layers.dense({
      units: 3,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotNormal({ seed: 2 }),
    }),
  );
  return model;
}

function classificationData() {
  const xs = Array.from({ length: 8 }, (_, i) => [Math.sin(i), Math.cos(2 * i), 0.3 * i - 1]);
  const ys = Array.from({ length: 8 }, (_, i) => [0, 1, 2].map((k) => (k === i % 3 ? 1 : 0)));
  return { x: tf.tensor2d(xs), y: tf.tensor2d(ys) };
}

for (const backend of TEST_BACKENDS) {
  describe(`diagnostics/sharpness [${backend}]`, () => {
    before(async () => useBackend(backend));

    test('worst-case sharpness of ½wᵀAw at w = 0 is ½ρ²λ_max (1e-3 relative), with a trajectory', () => {
      const w = tf.variable(tf.zeros([4]));
      const quadratic = quadraticLoss(w, matrixWithSpectrum([5, 2, 1, 0.5]));
      const rho = 0.1;
      const start = tf.memory().numTensors;
      const result = worstCaseSharpness(quadratic.loss, [w], { rho, steps: 40, seed: 2 });
      assert.equal(tf.memory().numTensors, start);
      const expected = 0.5 * rho * rho * 5;
      console.log(`  [${backend}] worst case ${result.sharpness} vs ${expected}`);
      assert.ok(Math.abs(result.sharpness - expected) / expected < 1e-3, `${result.sharpness}`);
      assert.equal(result.trajectory.length, 41);
      assert.ok(result.trajectory.every((p) => p.radius <= rho * (1 + 1e-5)));
      assert.ok(result.trajectory[0]!.sharpness < result.sharpness);
      assert.deepEqual(Array.from(w.dataSync()), [0, 0, 0, 0]);
      assert.deepEqual(
        worstCaseSharpness(quadratic.loss, [w], { rho, steps: 3, seed: 7 }),
        worstCaseSharpness(quadratic.loss, [w], { rho, steps: 3, seed: 7 }),
      );
      quadratic.dispose();
      w.dispose();
    });

    test('adaptive sharpness at w = 0 uses T_w = η: ½ρ²η²λ_max', () => {
      const w = tf.variable(tf.zeros([4]));
      const quadratic = quadraticLoss(w, matrixWithSpectrum([5, 2, 1, 0.5]));
      const result = adaptiveSharpness(quadratic.loss, [w], { rho: 0.2, eta: 0.5, steps: 40 });
      const expected = 0.5 * 0.04 * 0.25 * 5;
      assert.ok(Math.abs(result.sharpness - expected) / expected < 1e-3, `${result.sharpness}`);
      assert.equal(result.adaptive, true);
      quadratic.dispose();
      w.dispose();
    });

    test('m-sharpness is the mean of per-part worst cases (closed form per part)', () => {
      const w = tf.variable(tf.zeros([3]));
      const first = quadraticLoss(w, matrixWithSpectrum([4, 1, 0.5]));
      const second = quadraticLoss(w, matrixWithSpectrum([2, 0.5, 0.1]));
      const result = mSharpness([first.loss, second.loss], [w], { rho: 0.1, steps: 40 });
      const expected = (0.5 * 0.01 * 4 + 0.5 * 0.01 * 2) / 2;
      assert.equal(result.m, 2);
      assert.ok(Math.abs(result.sharpness - expected) / expected < 1e-3, `${result.sharpness}`);
      first.dispose();
      second.dispose();
      w.dispose();
    });

    test('robustness curve: E[½(σz)ᵀA(σz)] = ½σ² tr A within 4 standard errors; σ = 0 is exact', () => {
      const w = tf.variable(tf.zeros([4]));
      const a = matrixWithSpectrum([5, 2, 1, 0.5]);
      const quadratic = quadraticLoss(w, a);
      const start = tf.memory().numTensors;
      const result = robustnessCurve(() => ({ loss: quadratic.loss() }), [w], {
        sigmas: [0, 0.1, 0.2],
        samples: 100,
        seed: 3,
      });
      assert.equal(tf.memory().numTensors, start);
      assert.equal(result.points[0]!.averageSharpness, 0);
      for (const point of result.points.slice(1)) {
        const expected = 0.5 * point.sigma ** 2 * 8.5;
        assert.ok(
          Math.abs(point.averageSharpness - expected) < (4 * point.stdLoss) / Math.sqrt(100),
          `${point.sigma}: ${point.averageSharpness} vs ${expected}`,
        );
      }
      assert.deepEqual(Array.from(w.dataSync()), [0, 0, 0, 0]);
      quadratic.dispose();
      w.dispose();
    });

    test('weights and BatchNorm moving statistics restored exactly (training-mode passes)', () => {
      const model = batchNormModel();
      const { x, y } = classificationData();
      const objective = modelObjective('test', model, x, y, 'categoricalCrossentropy', true);
      const before = flatValues(model.weights.map((v) => v.read()));
      const start = tf.memory().numTensors;
      worstCaseSharpness(objective.lossFn, objective.variables, { steps: 2 });
      robustnessCurve(objective.evaluate, objective.variables, { sigmas: [0.1], samples: 2 });
      mSharpness(objective.partLossFns(2), objective.variables, { steps: 1 });
      hessianTrace(objective.lossFn, objective.variables, {
        samples: 2,
        method: 'finite-difference',
      });
      assert.equal(tf.memory().numTensors, start);
      assert.deepEqual(flatValues(model.weights.map((v) => v.read())), before);
      // The check above would catch a change: one training pass moves the moving statistics.
      tf.dispose(model.apply(x, { training: true }) as tf.Tensor);
      assert.notDeepEqual(flatValues(model.weights.map((v) => v.read())), before);
      tf.dispose([x, y]);
      model.dispose();
    });

    test('sharpnessReport returns one JSON-able object and leaves the model unchanged', () => {
      const model = batchNormModel();
      const { x, y } = classificationData();
      const before = flatValues(model.weights.map((v) => v.read()));
      const start = tf.memory().numTensors;
      const report = sharpnessReport(model, x, y, {
        iterations: 10,
        traceSamples: 4,
        steps: 3,
        m: 2,
        sigmas: [0, 0.05],
        noiseSamples: 2,
      });
      assert.equal(tf.memory().numTensors, start);
      assert.deepEqual(flatValues(model.weights.map((v) => v.read())), before);
      const json = JSON.parse(JSON.stringify(report)) as typeof report;
      assert.deepEqual(json, report);
      assert.ok(Number.isFinite(report.lambdaMax) && Number.isFinite(report.trace));
      assert.ok(report.worstCaseSharpness >= 0 && report.accuracy !== undefined);
      assert.equal(report.hvpMethod, 'double-backprop');
      const options = { iterations: 10, traceSamples: 4, steps: 3, m: 2, sigmas: [0, 0.05] };
      const whole = sharpnessReport(model, x, y, { ...options, noiseSamples: 2 });
      const inParts = sharpnessReport(model, x, y, {
        ...options,
        noiseSamples: 2,
        hvpBatchSize: 3,
      });
      assert.equal(tf.memory().numTensors, start);
      for (const key of ['lambdaMax', 'trace'] as const) {
        const error = Math.abs(inParts[key] - whole[key]) / Math.abs(whole[key]);
        assert.ok(error <= 1e-4, `${key}: ${inParts[key]} in parts of 3, ${whole[key]} whole`);
      }
      assert.throws(
        () => sharpnessReport(model, x, y, { hvpBatchSize: 0 }),
        /option 'hvpBatchSize' is 0; expected an integer >= 1/,
      );
      tf.dispose([x, y]);
      model.dispose();
    });

    test('bad options name the option, value and range', () => {
      const w = tf.variable(tf.tensor1d([1, 2]));
      const lossFn = () => tf.sum(tf.square(w)) as tf.Scalar;
      assert.throws(
        () => worstCaseSharpness(lossFn, [w], { rho: 0 }),
        /worstCaseSharpness: option 'rho' is 0; expected a finite number > 0/,
      );
      assert.throws(
        () => worstCaseSharpness(lossFn, [w], { steps: 1.5 }),
        /option 'steps' is 1.5; expected an integer >= 1/,
      );
      assert.throws(
        () => adaptiveSharpness(lossFn, [w], { eta: -1 }),
        /option 'eta' is -1; expected a finite number >= 0/,
      );
      assert.throws(() => mSharpness([], [w]), /non-empty array of loss functions/);
      assert.throws(
        () => robustnessCurve(() => ({ loss: lossFn() }), [w], { sigmas: [-0.1] }),
        /option 'sigmas\[0\]' is -0.1; expected a finite number >= 0/,
      );
      assert.throws(
        () => robustnessCurve(() => ({ loss: lossFn() }), [w], { samples: 0 }),
        /option 'samples' is 0/,
      );
      w.dispose();
    });
  });
}
