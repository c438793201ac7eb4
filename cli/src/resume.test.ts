/**
 * `--resume` continues a run only on the data it started on, and a checkpoint it cannot read is
 * named with the way out (`--restart`); `--data-seed` fixes the data of every seed and command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/cli.js';
import type { ImageDataset } from 'tfjs-sam/data';
import { prepareData } from './setup.js';
import type { ResultsFile } from './results.js';

const root = mkdtempSync(join(tmpdir(), 'tfjs-sam-resume-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const SMALL = [
  ...['--model', 'mlp', '--train-subset', '100', '--label-noise', '0.4', '--batch-size', '50'],
  '--no-progress',
];
const train = (out: string, ...extra: string[]) =>
  runCli(['train', '--optimizer', 'sgd', '--epochs', '1', ...SMALL, '--out', out, ...extra]);
const runDir = (out: string, seed = 1) => join(out, 'runs', `sgd-seed${seed}`);

test('--data-seed draws the subset, split and noise; every --seed of it sees the same data', async () => {
  const options = { dataset: 'fashion-mnist-mini' as const, trainSubset: 100, labelNoise: 0.4 };
  const images = async (seed: number) =>
    (await prepareData({ ...options, validation: 0.2, seed })).train as ImageDataset;
  const one = { train: await images(1) };
  const again = { train: await images(1) };
  const other = { train: await images(2) };
  assert.deepEqual(one.train.labels, again.train.labels);
  assert.deepEqual(one.train.images, again.train.images);
  assert.notDeepEqual(one.train.images, other.train.images, 'another data seed, another subset');

  const out = join(root, 'seeds');
  await train(out, '--seed', '1');
  await train(out, '--seed', '2');
  const records = [1, 2].map(
    (seed) =>
      JSON.parse(readFileSync(join(runDir(out, seed), 'run.json'), 'utf8')) as {
        seed: number;
        dataSeed: number;
        data: string;
      },
  );
  assert.deepEqual(
    records.map((r) => [r.seed, r.dataSeed]),
    [
      [1, 1],
      [2, 1],
    ],
  );
  assert.equal(records[0]?.data, records[1]?.data);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
  assert.equal(results.dataSeed, 1);
  assert.equal(results.settings['dataSeed'], 1);
});

test('--resume refuses a run folder made with another data seed, other data or another model', async () => {
  const out = join(root, 'refuse');
  await train(out, '--data-seed', '2');
  await assert.rejects(
    train(out, '--resume'),
    /--resume: sgd seed 1 in .* was made with --data-seed 2, and this command has --data-seed 1: .*Resume with --data-seed 2, or train it from the start with --restart/,
  );
  await assert.rejects(
    train(out, '--resume', '--data-seed', '2', '--label-noise', '0.2'),
    /was trained on "fashion-mnist-mini: 100 training samples.*40% symmetric label noise.*", and this command prepares ".*20% symmetric/,
  );
  await train(out, '--resume', '--data-seed', '2');
});

test('a damaged checkpoint is named, with --restart as the way out; --restart trains afresh', async () => {
  const out = join(root, 'damaged');
  await train(out, '--epochs', '2');
  const weights = join(runDir(out), 'checkpoint', 'weights.bin');
  truncateSync(weights, 25);
  await assert.rejects(train(out, '--epochs', '3', '--resume'), (error: unknown) => {
    const message = (error as Error).message;
    assert.ok(message.includes(weights), message);
    assert.match(message, /has 25 bytes, .*the file is truncated/);
    assert.match(message, /run the same command with --restart in place of --resume/);
    return true;
  });
  await assert.rejects(
    train(out, '--resume', '--restart'),
    /cannot be used with option '--resume'/,
  );
  writeFileSync(join(runDir(out), 'left-over.txt'), 'from the damaged run');
  await train(out, '--epochs', '2', '--restart');
  assert.equal(
    existsSync(join(runDir(out), 'left-over.txt')),
    false,
    'the run folder was discarded',
  );
  const log = readFileSync(join(runDir(out), 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n');
  assert.equal(log.length, 2, 'the run started over: two epochs logged');
  assert.ok(existsSync(weights));
});
