import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { useBackend } from '../testing/backends.js';
import { loadBundledFashionMnist } from '../data/bundled.js';
import { subsetDataset } from '../data/dataset.js';
import { sam } from '../core/sam.js';
import {
  successiveHalving,
  trainerRounds,
  validationAccuracy,
  type TuneCandidate,
} from './tune.js';

const GRID = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1].map((rho) => ({ rho }));

/** Best at ρ = 10^-1.5, improving with steps. */
const score = (c: TuneCandidate, steps: number) => -((Math.log10(c.rho) + 1.5) ** 2) + steps * 1e-4;

test('successive halving keeps the best third each round, continues runs, and fits the budget', async () => {
  const calls: Array<[number, number]> = [];
  const result = await successiveHalving({
    candidates: GRID,
    maxSteps: 900,
    budget: 3000,
    eta: 3,
    passes: 2,
    trainTo: async (c, steps) => {
      calls.push([c.rho, steps]);
      return score(c, steps);
    },
  });
  assert.equal(result.best.rho, 0.03);
  assert.ok(result.cost <= 3000, `cost ${result.cost}`);
  assert.ok(result.cost > 3000 - 2 * 13, 'the longest schedule that fits: one more step would not');
  assert.equal(result.gridCost, 7 * 2 * 900);
  for (let r = 1; r < result.rungs.length; r++) {
    assert.ok((result.rungs[r] as number) > (result.rungs[r - 1] as number));
  }
  const perRung = result.rungs.map((_, r) => result.trials.filter((t) => t.rung === r).length);
  assert.equal(perRung[0], 7);
  perRung.slice(1).forEach((n, r) => assert.equal(n, Math.ceil((perRung[r] as number) / 3)));
  // A candidate is trained on from where it stopped: its step targets only grow.
  for (const rho of GRID.map((c) => c.rho)) {
    const targets = calls.filter(([r]) => r === rho).map(([, s]) => s);
    assert.deepEqual(
      targets,
      [...targets].sort((a, b) => a - b),
    );
  }
  // The cost counts each candidate's new steps once.
  const spent = GRID.reduce((sum, c) => {
    const targets = calls.filter(([r]) => r === c.rho).map(([, s]) => s);
    return sum + 2 * Math.max(0, ...targets);
  }, 0);
  assert.equal(result.cost, spent);
});

test('successive halving with budget to spare compares at the full run: 7 → 3 → 1 over 300 and 900 steps', async () => {
  const result = await successiveHalving({
    candidates: GRID,
    maxSteps: 900,
    budget: 100_000,
    passes: 2,
    trainTo: async (c, steps) => score(c, steps),
  });
  assert.deepEqual(result.rungs, [300, 900]);
  assert.equal(result.cost, 2 * (7 * 300 + 3 * 600));
  assert.deepEqual(
    result.trials.filter((t) => t.kept).map((t) => [t.rung, t.candidate.rho]),
    [
      [0, 0.01],
      [0, 0.03],
      [0, 0.1],
      [1, 0.03],
    ],
  );
});

test('successive halving: a smaller metric can be the better one, and a budget too small says what is needed', async () => {
  const lower = await successiveHalving({
    candidates: GRID,
    maxSteps: 90,
    budget: 1000,
    passes: 1,
    higherIsBetter: false,
    trainTo: async (c, steps) => -score(c, steps),
  });
  assert.equal(lower.best.rho, 0.03);
  await assert.rejects(
    successiveHalving({
      candidates: GRID,
      maxSteps: 90,
      budget: 5,
      passes: 2,
      trainTo: async () => 0,
    }),
    /a budget of 5 base steps is too small for 7 candidates over 90 steps; successive halving needs at least \d+ \(the grid: 1260\)/,
  );
  await assert.rejects(
    successiveHalving({
      candidates: [{ rho: 0.1 }],
      maxSteps: 9,
      budget: 100,
      passes: 1,
      trainTo: async () => 0,
    }),
    /1 candidate\(s\); give at least two values/,
  );
});

test('the trainer behind the tuner: each candidate continues from its checkpoint and is judged on validation data', async () => {
  await useBackend('wasm');
  const bundled = await loadBundledFashionMnist();
  const train = subsetDataset(
    bundled.train,
    Int32Array.from({ length: 128 }, (_, i) => i),
  );
  const validation = subsetDataset(
    bundled.test,
    Int32Array.from({ length: 64 }, (_, i) => i),
  );
  const root = mkdtempSync(join(tmpdir(), 'tfjs-sam-tune-'));
  try {
    const build = () =>
      tfl.sequential({
        layers: [
          tfl.layers.flatten({ inputShape: [28, 28, 1] }),
          tfl.layers.dense({
            units: 16,
            activation: 'relu',
            kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
          }),
          tfl.layers.dense({
            units: 10,
            activation: 'softmax',
            kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
          }),
        ],
      });
    const before = tf.memory().numTensors;
    const result = await successiveHalving({
      candidates: [{ rho: 0.01 }, { rho: 0.1 }, { rho: 1 }],
      maxSteps: 8,
      budget: 40,
      eta: 2,
      passes: 2,
      trainTo: trainerRounds(
        (c) => ({
          data: { train, validation },
          buildModel: build,
          buildOptimizer: () => sam(tf.train.momentum(0.05, 0.9), { rho: c.rho }),
          epochs: 2,
          batchSize: 32,
          seed: 3,
          checkpointDir: join(root, String(c.rho)),
        }),
        validationAccuracy,
      ),
    });
    assert.ok([0.01, 0.1, 1].includes(result.best.rho));
    assert.ok(result.bestMetric >= 0 && result.bestMetric <= 1);
    // 3 → 2 → 1: three candidates train 4 steps, two of them continue to 8.
    assert.deepEqual(result.rungs, [4, 8]);
    assert.equal(result.cost, 2 * (3 * 4 + 2 * 4));
    assert.ok(result.cost < result.gridCost);
    assert.equal(tf.memory().numTensors, before, 'models and optimizers disposed');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
