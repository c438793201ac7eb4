/** `tfjs-sam pareto`: points, fronts, timing and the footing checks, on results files made here. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paretoPoints } from './pareto.js';
import type { OptimizerResult, ResultsFile } from './results.js';
import { runCli } from './testing/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-sam-pareto-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function optimizer(
  label: string,
  passesPerStep: number,
  accuracies: number[],
  msPerStep: number,
  steps = 100,
): OptimizerResult {
  return {
    label,
    passesPerStep,
    epochs: 10,
    runs: accuracies.map((testAccuracy, i) => ({
      label,
      seed: i + 1,
      epochs: 10,
      steps,
      completed: true,
      final: { testAccuracy } as OptimizerResult['runs'][number]['final'],
      msPerStep,
      seconds: 0,
    })),
    mean: {},
    std: {},
    msPerStep,
  };
}

function results(optimizers: OptimizerResult[], data = 'toy data'): ResultsFile {
  return {
    kind: 'compare',
    command: 'test',
    date: '2026-12-03',
    machine: 'test',
    backend: 'cpu',
    data,
    dataSeed: 1,
    model: 'mlp',
    settings: {},
    optimizers,
  };
}

test('pareto points: mean and std over seeds, passes from the steps, fronts by passes and by time', () => {
  const points = paretoPoints([
    {
      dir: 'a',
      results: results([
        optimizer('plain', 1, [0.6, 0.62, 0.64], 10),
        optimizer('sharp', 2, [0.7, 0.7, 0.7], 20),
      ]),
    },
    {
      dir: 'b',
      results: results([
        // As many passes as 'sharp' and worse: off the front by passes; slower too.
        optimizer('worse', 2, [0.68], 25),
        // Cheaper in passes than 'best' and better than 'sharp', but slow per step.
        optimizer('reuse', 1.2, [0.66], 40),
        optimizer('best', 2.1, [0.75], 21),
      ]),
    },
  ]);
  const byLabel = Object.fromEntries(points.map((p) => [p.label, p]));
  assert.deepEqual(
    points.map((p) => p.label),
    ['plain', 'reuse', 'sharp', 'worse', 'best'],
    'sorted by passes',
  );
  assert.ok(Math.abs((byLabel.plain?.testAccuracy ?? 0) - 0.62) < 1e-12);
  assert.ok(Math.abs((byLabel.plain?.testAccuracyStd ?? 0) - 0.02) < 1e-12);
  assert.equal(byLabel.sharp?.passes, 200);
  assert.equal(byLabel.best?.minutes, (21 * 100) / 60_000);
  const front = (key: 'frontByPasses' | 'frontByTime') =>
    points.filter((p) => p[key]).map((p) => p.label);
  assert.deepEqual(front('frontByPasses'), ['plain', 'reuse', 'sharp', 'best']);
  // By time 'reuse' (40 ms/step) is beaten by 'sharp' (20 ms/step, more accurate).
  assert.deepEqual(front('frontByTime'), ['plain', 'sharp', 'best']);
});

test('pareto: --timing replaces ms/step by label; duplicates and other data are refused', async () => {
  const write = (name: string, file: ResultsFile) => {
    const dir = join(root, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'results.json'), JSON.stringify(file));
    return dir;
  };
  const a = write(
    'a',
    results([optimizer('plain', 1, [0.6], 10), optimizer('sharp', 2, [0.7], 50)]),
  );
  const b = write('b', results([optimizer('best', 2, [0.8], 30)]));
  const timing = write('timing', results([optimizer('sharp', 2, [0.7], 20, 5)]));
  const out = join(root, 'out');
  const printed = await runCli(['pareto', a, b, '--timing', timing, '--out', out]);
  const written = JSON.parse(readFileSync(join(out, 'pareto.json'), 'utf8')) as {
    points: Array<{ label: string; msPerStep: number; timing: string; frontByTime: boolean }>;
  };
  const sharp = written.points.find((p) => p.label === 'sharp');
  assert.equal(sharp?.msPerStep, 20);
  assert.equal(sharp?.timing, 'timing');
  assert.equal(written.points.find((p) => p.label === 'best')?.timing, 'runs');
  assert.match(printed, /sharp\s+1\s+70\.00% ± 0\.00\s+2\.00\s+200\s+20\.0 /);
  for (const file of [
    'report.html',
    'plots/accuracy-vs-passes.svg',
    'plots/accuracy-vs-time.png',
  ]) {
    assert.ok(existsSync(join(out, file)), file);
  }

  await assert.rejects(
    runCli(['pareto', a, a, '--out', out]),
    /optimizer 'plain' is in both .* give each optimizer's folder once/,
  );
  const other = write('other', results([optimizer('x', 1, [0.5], 10)], 'other data'));
  await assert.rejects(
    runCli(['pareto', a, other, '--out', out]),
    /trained on different data or models .* give folders of the same data and model/,
  );
});
