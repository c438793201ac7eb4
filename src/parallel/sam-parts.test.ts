// SAM's two entry points for steps whose parts run elsewhere: rhoForNextStep, applyPerturbedGradients.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { sam } from '../core/sam.js';
import { useBackend } from '../testing/backends.js';
import { assertClose } from '../testing/problems.js';
import { regression } from '../testing/regression.js';

await useBackend('cpu');

test('applyPerturbedGradients ends a step exactly like stepMSharpness', () => {
  const [a, b] = [regression(), regression()];
  const inPlace = sam(tf.train.momentum(0.1, 0.9), { rho: 0.1, clipNorm: 0.5 });
  const elsewhere = sam(tf.train.momentum(0.1, 0.9), { rho: 0.1, clipNorm: 0.5 });
  const halves = [
    [0, 1],
    [2, 3],
  ];
  for (let step = 0; step < 4; step++) {
    tf.dispose(
      inPlace.stepMSharpness(
        halves.map((rows) => a.meanOver(rows)),
        [a.w],
      ),
    );
    // The same parts, computed by hand: ∇L_j(w + ρ·g_j/‖g_j‖), averaged.
    const rho = elsewhere.rhoForNextStep();
    const mean = tf.tidy(() => {
      const perturbed = halves.map((rows) => {
        const first = tf.variableGrads(b.meanOver(rows), [b.w]).grads[b.w.name] as tf.Tensor;
        const epsilon = tf.mul(first, rho / (tf.norm(first).dataSync()[0] as number));
        const original = tf.clone(b.w);
        b.w.assign(tf.add(b.w, epsilon));
        const atPerturbed = tf.variableGrads(b.meanOver(rows), [b.w]).grads[b.w.name] as tf.Tensor;
        b.w.assign(original);
        return atPerturbed;
      });
      return tf.div(tf.addN(perturbed), perturbed.length);
    });
    elsewhere.applyPerturbedGradients([b.w], [mean]);
    mean.dispose();
    assertClose(b.values(), a.values(), 1e-6, `step ${step}`);
  }
  assert.equal(elsewhere.iterations, 4);
  inPlace.dispose();
  elsewhere.dispose();
  a.dispose();
  b.dispose();
});

test('rhoForNextStep follows the schedule; applyPerturbedGradients refuses mismatches and half steps', () => {
  const p = regression();
  const optimizer = sam(tf.train.sgd(0.1), {
    rhoSchedule: ({ iteration }) => 0.1 * (iteration + 1),
  });
  assert.equal(optimizer.rhoForNextStep(), 0.1);
  const zero = tf.zerosLike(p.w);
  optimizer.applyPerturbedGradients([p.w], [zero]);
  assert.ok(Math.abs(optimizer.rhoForNextStep() - 0.2) < 1e-12);
  assert.throws(
    () => optimizer.applyPerturbedGradients([p.w], []),
    /got 0 gradients for 1 variables/,
  );
  const g = tf.variableGrads(p.meanOver([0, 1]), [p.w]).grads;
  optimizer.firstStep(g);
  assert.throws(() => optimizer.applyPerturbedGradients([p.w], [zero]), /still in progress/);
  optimizer.abandonStep();
  tf.dispose([zero, ...Object.values(g)]);
  optimizer.dispose();
  p.dispose();
});
