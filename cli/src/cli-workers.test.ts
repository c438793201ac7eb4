import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/cli.js';

const SMALL = ['--model', 'mlp', '--epochs', '1', '--train-subset', '200', '--batch-size', '50'];

interface Aggregate {
  label: string;
  mean: { trainLoss: number; testLoss: number };
}

async function compare(
  extra: string[],
): Promise<{ settings: Record<string, unknown>; optimizers: Aggregate[] }> {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-sam-cli-workers-'));
  try {
    await runCli([
      'compare',
      '--optimizers',
      'momentum,sam',
      ...SMALL,
      ...extra,
      '--no-progress',
      '--out',
      out,
    ]);
    return JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
      settings: Record<string, unknown>;
      optimizers: Aggregate[];
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

test('compare --workers 2: momentum as on one thread, SAM as --m-sharpness 2', async () => {
  const parallel = await compare(['--workers', '2']);
  // --m-sharpness applies to SAM only; momentum trains as usual.
  const singleThread = await compare(['--m-sharpness', '2']);
  assert.equal(parallel.settings['workers'], 2);
  assert.deepEqual(
    parallel.optimizers.map((o) => o.label),
    ['momentum', 'sam'],
  );
  parallel.optimizers.forEach((o, i) => {
    const reference = singleThread.optimizers[i] as Aggregate;
    for (const key of ['trainLoss', 'testLoss'] as const) {
      assert.ok(
        Math.abs(o.mean[key] - reference.mean[key]) < 1e-5,
        `${o.label} ${key}: ${o.mean[key]} vs ${reference.mean[key]}`,
      );
    }
  });
});

test('--workers refuses other methods and --m-sharpness before training', async () => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-sam-cli-workers-'));
  try {
    await assert.rejects(
      runCli(['compare', '--optimizers', 'sgd,gsam', '--workers', '2', ...SMALL, '--out', out]),
      /--workers 2: GSAM is not supported.*SAM, ASAM.*SAM-ON.*single-threaded/,
    );
    await assert.rejects(
      runCli([
        'train',
        '--optimizer',
        'sam',
        '--workers',
        '2',
        '--m-sharpness',
        '2',
        ...SMALL,
        '--out',
        out,
      ]),
      /--workers 2 with --m-sharpness 2: .*drop --m-sharpness/,
    );
    await assert.rejects(
      runCli(['train', '--workers', '0', ...SMALL, '--out', out]),
      /--workers is '0'/,
    );
    assert.equal(existsSync(join(out, 'runs')), false, 'nothing was trained');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
