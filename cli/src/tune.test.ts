/**
 * `tfjs-sam tune`: successive halving over ρ in whole epochs, each candidate continued from its
 * checkpoint with the full run's learning-rate schedule, so that a finalist trains exactly as
 * `train` would; the compute it reports is what it ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EpochRecord } from 'tfjs-sam/trainer';
import { runCli } from './testing/cli.js';
import type { ResultsFile } from './results.js';
import { folderName, readLog } from './run.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-sam-tune-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

// 90 training samples after the validation split, batches of 30: 3 steps per epoch.
const SMALL = [
  ...['--model', 'mlp', '--train-subset', '100', '--validation', '0.1', '--batch-size', '30'],
  ...['--lr', '0.05', '--schedule', 'cosine', '--epochs', '3', '--no-progress'],
];
const RHOS = [0.01, 0.05, 0.2, 1];

test('tune: four candidates, η 3: all train 1 epoch, the best two go on to 3, one is chosen', async () => {
  const out = join(root, 'halving');
  const printed = await runCli([
    'tune',
    '--optimizer',
    'sam',
    '--rhos',
    RHOS.join(','),
    '--eta',
    '3',
    ...SMALL,
    '--out',
    out,
  ]);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
  const tune = results.tune;
  assert.ok(tune !== undefined, 'results.json has the tuner summary');
  assert.equal(results.kind, 'tune');
  assert.deepEqual(tune.rounds, [1, 3]);
  assert.equal(tune.stepsPerEpoch, 3);
  assert.equal(tune.passesPerStep, 2);
  // 4 candidates × 1 epoch, then 2 × 2 more epochs; 3 steps per epoch of 2 passes each.
  assert.equal(tune.cost, (4 * 1 + 2 * 2) * 3 * 2);
  assert.equal(tune.gridCost, 4 * 3 * 3 * 2);

  const first = tune.trials.filter((t) => t.round === 0);
  const last = tune.trials.filter((t) => t.round === 1);
  assert.deepEqual(first.map((t) => t.rho).sort(), [...RHOS].sort());
  assert.equal(last.length, 2);
  const kept = first.filter((t) => t.kept);
  assert.equal(kept.length, 2);
  const worstKept = Math.min(...kept.map((t) => t.metric));
  for (const t of first.filter((t) => !t.kept)) {
    assert.ok(t.metric <= worstKept, `ρ ${t.rho} (${t.metric}) was stopped with a better metric`);
  }
  assert.deepEqual(last.map((t) => t.rho).sort(), kept.map((t) => t.rho).sort());
  const winner = last.find((t) => t.kept);
  assert.ok(winner !== undefined);
  assert.equal(winner.metric, Math.max(...last.map((t) => t.metric)));
  assert.deepEqual(tune.best, { rho: winner.rho, learningRate: 0.05, metric: winner.metric });
  assert.match(printed, new RegExp(`chosen: rho ${winner.rho}, lr 0\\.05`));
  assert.match(printed, /compute 48 base steps = 67% of the grid's 72/);

  // Every trial's metric is the validation accuracy its run logged at that epoch.
  for (const trial of tune.trials) {
    const log = readLog(join(out, 'runs', folderName(`sam rho=${trial.rho} lr=0.05`, 1)));
    assert.equal(log[trial.epochs - 1]?.validationAccuracy, trial.metric);
  }
  for (const t of first.filter((t) => !t.kept)) {
    const dir = join(out, 'runs', folderName(`sam rho=${t.rho} lr=0.05`, 1));
    assert.equal(readLog(dir).length, 1, `ρ ${t.rho} stopped after its round`);
    const state = JSON.parse(readFileSync(join(dir, 'checkpoint', 'state.json'), 'utf8')) as {
      step: number;
    };
    assert.equal(state.step, 3, `ρ ${t.rho} trained one epoch's 3 steps, not a step more`);
  }
  const report = readFileSync(join(out, 'report.html'), 'utf8');
  assert.match(report, /Tuner trials/);
  assert.match(report, /stopped by the tuner/);
  assert.match(report, /tuner-trials/);

  // A finalist, stopped after epoch 1 and continued, trains exactly as one uninterrupted run.
  const direct = join(root, 'direct');
  await runCli([
    'train',
    '--optimizer',
    `sam(rho=${winner.rho})`,
    '--seed',
    '1',
    ...SMALL,
    '--out',
    direct,
  ]);
  const pick = (records: EpochRecord[]) =>
    records.map((r) => [r.trainLoss, r.validationAccuracy, r.testAccuracy, r.learningRate]);
  assert.deepEqual(
    pick(readLog(join(out, 'runs', folderName(`sam rho=${winner.rho} lr=0.05`, 1)))),
    pick(readLog(join(direct, 'runs', folderName(`sam(rho=${winner.rho})`, 1)))),
  );
});

test('tune: a budget as a share of the grid shortens the rounds; too small a budget is refused', async () => {
  const out = join(root, 'budget');
  await runCli([
    'tune',
    '--rhos',
    RHOS.join(','),
    ...SMALL.map((a) => (a === '3' ? '6' : a)),
    '--budget',
    '50%',
    '--out',
    out,
  ]);
  const tune = (JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile).tune;
  assert.ok(tune !== undefined);
  assert.ok(tune.cost <= tune.gridCost / 2, `cost ${tune.cost} within half of ${tune.gridCost}`);
  assert.ok((tune.rounds.at(-1) as number) < 6, 'the last round is shorter than --epochs');

  await assert.rejects(
    runCli([
      'tune',
      '--rhos',
      RHOS.join(','),
      '--eta',
      '3',
      ...SMALL,
      '--budget',
      '10',
      '--out',
      out,
    ]),
    /a budget of 10 base steps is too small for 4 candidates over 3 epochs; successive halving needs at least 48 \(the grid: 72\)/,
  );
  await assert.rejects(
    runCli(['tune', ...SMALL, '--budget', 'half', '--out', out]),
    /--budget is 'half'; give base steps/,
  );
});
