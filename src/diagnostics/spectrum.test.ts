import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { TEST_BACKENDS, useBackend } from '../testing/backends.js';
import { hessianEigenvalues, hessianTrace } from './spectrum.js';
import { matrixWithSpectrum, quadraticLoss, symmetricEigenvalues } from '../testing/diagnostics.js';

const SPECTRUM = [5, 2, 1, 0.5];

/** Linear regression L(w, b) = mean((Xw + b − y)²): H = (2/n) [XᵀX, Xᵀ1; 1ᵀX, n]. */
function regressionProblem() {
  const n = 24;
  const d = 3;
  const xs = Array.from({ length: n }, (_, i) =>
    Array.from({ length: d }, (_, j) => Math.sin(1.7 * i + 2.3 * j) + 0.1 * j),
  );
  const ys = xs.map((row, i) => row[0]! - 0.5 * row[2]! + 0.1 * Math.cos(i));
  const augmented = xs.map((row) => [...row, 1]);
  const hessian = Array.from({ length: d + 1 }, (_, a) =>
    Array.from(
      { length: d + 1 },
      (_, b) => (2 / n) * augmented.reduce((s, row) => s + row[a]! * row[b]!, 0),
    ),
  );
  return { xs, ys, hessian };
}

for (const backend of TEST_BACKENDS) {
  describe(`diagnostics/spectrum [${backend}]`, () => {
    before(async () => useBackend(backend));

    test('quadratic ½wᵀAw: top-2 eigenvalues and trace to 1e-3 relative; tensors flat; weights kept', () => {
      const w = tf.variable(tf.tensor1d([0.3, -0.1, 0.2, 0.4]));
      const a = matrixWithSpectrum(SPECTRUM);
      const quadratic = quadraticLoss(w, a);
      const start = tf.memory().numTensors;
      const eigen = hessianEigenvalues(quadratic.loss, [w], {
        k: 2,
        iterations: 200,
        tol: 1e-7,
        seed: 3,
      });
      const exactTrace = hessianTrace(quadratic.loss, [w], { estimator: 'exact' });
      const hutchinson = hessianTrace(quadratic.loss, [w], { samples: 200, seed: 1 });
      assert.equal(tf.memory().numTensors, start);
      console.log(
        `  [${backend}] quadratic: eigenvalues ${eigen.eigenvalues.map((e) => e.toPrecision(7))} (iterations ${eigen.details.map((d) => d.iterations)}), exact trace ${exactTrace.estimate}, Hutchinson ${hutchinson.estimate.toFixed(4)} ± ${hutchinson.standardError.toFixed(4)}`,
      );
      eigen.eigenvalues.forEach((value, i) =>
        assert.ok(Math.abs(value - SPECTRUM[i]!) / SPECTRUM[i]! < 1e-3, `λ${i} = ${value}`),
      );
      assert.ok(eigen.details.every((d) => d.converged && d.residual < 1e-2));
      const trace = SPECTRUM.reduce((s, l) => s + l, 0);
      assert.ok(Math.abs(exactTrace.estimate - trace) / trace < 1e-3);
      assert.ok(hutchinson.standardError > 0);
      assert.ok(
        Math.abs(hutchinson.estimate - trace) < 4 * hutchinson.standardError,
        `${hutchinson.estimate}`,
      );
      assert.deepEqual(
        Array.from(w.dataSync()),
        Array.from(new Float32Array([0.3, -0.1, 0.2, 0.4])),
      );
      quadratic.dispose();
      w.dispose();
    });

    test('Hutchinson is exact for a diagonal Hessian (Rademacher z: zᵀDz = tr D)', () => {
      const w = tf.variable(tf.zeros([3]));
      const quadratic = quadraticLoss(w, [
        [3, 0, 0],
        [0, 1.5, 0],
        [0, 0, 0.25],
      ]);
      const result = hessianTrace(quadratic.loss, [w], { samples: 5, seed: 9 });
      assert.ok(Math.abs(result.estimate - 4.75) / 4.75 < 1e-5);
      assert.ok(result.standardError < 1e-5);
      quadratic.dispose();
      w.dispose();
    });

    test('linear regression: eigenvalues and trace of (2/n)[X 1]ᵀ[X 1] to 1e-3 relative', () => {
      const { xs, ys, hessian } = regressionProblem();
      const x = tf.tensor2d(xs);
      const y = tf.tensor2d(ys, [ys.length, 1]);
      const weights = tf.variable(tf.tensor2d([[0.1], [-0.2], [0.05]]));
      const bias = tf.variable(tf.tensor1d([0.3]));
      const lossFn = () =>
        tf.tidy(
          () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, weights), bias), y))) as tf.Scalar,
        );
      const expected = symmetricEigenvalues(hessian);
      const expectedTrace = hessian.reduce((s, row, i) => s + row[i]!, 0);
      const start = tf.memory().numTensors;
      const eigen = hessianEigenvalues(lossFn, [weights, bias], {
        k: 2,
        iterations: 300,
        tol: 1e-8,
        seed: 5,
      });
      const trace = hessianTrace(lossFn, [weights, bias], { estimator: 'exact' });
      assert.equal(tf.memory().numTensors, start);
      console.log(
        `  [${backend}] regression: eigenvalues ${eigen.eigenvalues.map((e) => e.toPrecision(7))} vs ${expected.slice(0, 2).map((e) => e.toPrecision(7))}; trace ${trace.estimate} vs ${expectedTrace}`,
      );
      eigen.eigenvalues.forEach((value, i) =>
        assert.ok(
          Math.abs(value - expected[i]!) / expected[i]! < 1e-3,
          `λ${i} = ${value} vs ${expected[i]}`,
        ),
      );
      assert.ok(Math.abs(trace.estimate - expectedTrace) / expectedTrace < 1e-3);
      tf.dispose([x, y, weights, bias]);
    });

    test('seeded: same seed gives identical results, another seed a different start', () => {
      const w = tf.variable(tf.tensor1d([0.3, -0.1, 0.2, 0.4]));
      const quadratic = quadraticLoss(w, matrixWithSpectrum(SPECTRUM));
      const run = (seed: number) =>
        hessianEigenvalues(quadratic.loss, [w], { k: 1, iterations: 5, seed });
      assert.deepEqual(run(4), run(4));
      assert.notDeepEqual(run(4).eigenvalues, run(5).eigenvalues);
      const trace = (seed: number) => hessianTrace(quadratic.loss, [w], { samples: 10, seed });
      assert.deepEqual(trace(2), trace(2));
      assert.notEqual(trace(2).estimate, trace(3).estimate);
      quadratic.dispose();
      w.dispose();
    });

    test('bad options name the option, value and range', () => {
      const w = tf.variable(tf.tensor1d([1, 2]));
      const lossFn = () => tf.sum(tf.square(w)) as tf.Scalar;
      assert.throws(
        () => hessianEigenvalues(lossFn, [w], { k: 3 }),
        /option 'k' is 3; expected an integer >= 1 and <= 2/,
      );
      assert.throws(
        () => hessianEigenvalues(lossFn, [w], { tol: 0 }),
        /option 'tol' is 0; expected a finite number > 0/,
      );
      assert.throws(
        () => hessianEigenvalues(lossFn, [w], { iters: 3 } as object),
        /unknown option 'iters'/,
      );
      assert.throws(
        () => hessianTrace(lossFn, [w], { samples: 1 }),
        /option 'samples' is 1; expected an integer >= 2/,
      );
      assert.throws(
        () => hessianTrace(lossFn, [w], { estimator: 'x' as 'exact' }),
        /option 'estimator' is 'x'/,
      );
      assert.throws(
        () => hessianTrace('loss' as unknown as () => tf.Scalar, [w]),
        /'lossFn' is string/,
      );
      w.dispose();
    });
  });
}
