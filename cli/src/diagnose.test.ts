import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-diagnose-'));
const runDir = join(dir, 'runs', 'sgd-seed1');
const trained = runCli([
  'train',
  '--optimizer',
  'sgd',
  '--model',
  'mlp',
  '--train-subset',
  '200',
  '--epochs',
  '1',
  '--no-progress',
  '--out',
  dir,
]);

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('sharpness --json prints one object with finite, consistent measures', async () => {
  await trained;
  const printed = await runCli([
    'sharpness',
    runDir,
    '--train-subset',
    '200',
    '--samples',
    '64',
    '--iterations',
    '8',
    '--trace-samples',
    '3',
    '--json',
  ]);
  const report = JSON.parse(printed) as Record<string, unknown>;
  for (const key of ['loss', 'lambdaMax', 'trace', 'worstCaseSharpness', 'adaptiveSharpness']) {
    assert.ok(Number.isFinite(report[key]), `${key} = ${String(report[key])}`);
  }
  assert.ok((report['lambdaMax'] as number) > 0, 'a trained softmax model has positive curvature');
  assert.ok((report['worstCaseSharpness'] as number) >= 0, 'ascent never lowers the loss');
  assert.equal((report['eigenvalueConvergence'] as unknown[]).length, 1);
  assert.match(
    report['data'] as string,
    /^64 train samples of fashion-mnist-mini: 200 training samples/,
  );
  assert.equal(report['hvpMethod'], 'double-backprop');
});

test('landscape writes the grid values, plots and a page; --compare adds the interpolation', async () => {
  await trained;
  const out = join(dir, 'landscape');
  await runCli([
    'landscape',
    runDir,
    '--compare',
    join(runDir, 'checkpoint', 'model.json'),
    '--train-subset',
    '200',
    '--samples',
    '32',
    '--points1d',
    '5',
    '--points2d',
    '3',
    '--out',
    out,
  ]);
  const grid = JSON.parse(readFileSync(join(out, 'landscape.json'), 'utf8')) as {
    slice1d: { points: unknown[] };
    slice2d: { points: unknown[] };
    interpolation: { points: Array<{ loss: number }> };
  };
  assert.equal(grid.slice1d.points.length, 5);
  assert.equal(grid.slice2d.points.length, 9);
  assert.equal(grid.interpolation.points.length, 5);
  assert.ok(existsSync(join(out, 'landscape.html')));
});

test('diagnostic commands reject bad input with actionable messages', async () => {
  await trained;
  await assert.rejects(
    runCli(['sharpness', join(dir, 'nowhere')]),
    /does not exist; give a run folder/,
  );
  await assert.rejects(
    runCli(['sharpness', join(runDir, 'metrics.jsonl')]),
    /is a file but not a model\.json/,
  );
  await assert.rejects(runCli(['sharpness', dir]), /no model\.json in/);
  await assert.rejects(
    runCli(['sharpness', runDir, '--samples', '0']),
    /--samples is '0'; expected an integer >= 1/,
  );
  await assert.rejects(
    runCli(['sharpness', runDir, '--rho', '-1']),
    /--rho is '-1'; expected a number > 0/,
  );
  await assert.rejects(
    runCli(['sharpness', runDir, '--label-noise', '1.5']),
    /--label-noise is '1.5'; expected a number in \[0, 1\)/,
  );
});
