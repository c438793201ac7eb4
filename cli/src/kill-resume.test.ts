/**
 * kill -9 at any moment, then `--resume`, continues exactly: a run killed again and again (as an
 * epoch ends, while its checkpoint is being written, and mid-epoch) and resumed each time ends
 * with the same weights, optimizer state and per-epoch log as a run that was never interrupted.
 * Each attempt is killed after its second epoch line, so the first epoch's checkpoint is complete
 * and every attempt makes progress.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const EPOCHS = 6;
const TRAIN = [
  ...['train', '--optimizer', 'sam(rho=0.1)', '--model', 'mlp', '--train-subset', '300'],
  ...['--batch-size', '50', '--epochs', String(EPOCHS)],
];
/**
 * Milliseconds after an attempt's second "epoch k/" line at which it is killed: the checkpoint of
 * that epoch takes about 200 ms to write, the next epoch about 1 s.
 */
const KILL_DELAYS = [0, 60, 500, 20, 150, 0, 300, 40];

/** Runs the CLI; with `killAfter`, kills it with SIGKILL that long after its second epoch line. */
function run(
  out: string,
  extra: string[],
  killAfter?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, ...TRAIN, '--out', out, ...extra],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (killAfter !== undefined && (stdout.match(/epoch \d+\//g) ?? []).length >= 2) {
      setTimeout(() => child.kill('SIGKILL'), killAfter);
      killAfter = undefined;
    }
  });
  return new Promise((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout: stdout + stderr })),
  );
}

const log = (out: string) =>
  readFileSync(join(out, 'runs', 'sam_rho=0.1_-seed1', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const { epoch, step, learningRate, trainLoss, trainAccuracy, testLoss, testAccuracy } =
        JSON.parse(line) as Record<string, number>;
      return { epoch, step, learningRate, trainLoss, trainAccuracy, testLoss, testAccuracy };
    });
const weights = (out: string) =>
  readFileSync(join(out, 'runs', 'sam_rho=0.1_-seed1', 'checkpoint', 'weights.bin'));

test('kill -9 at any moment, then --resume: the same weights, optimizer state and log as an uninterrupted run', async () => {
  const reference = mkdtempSync(join(tmpdir(), 'tfjs-sam-kill-reference-'));
  const killed = mkdtempSync(join(tmpdir(), 'tfjs-sam-kill-'));
  try {
    const whole = await run(reference, []);
    assert.equal(whole.code, 0, whole.stdout);

    let kills = 0;
    let finished = false;
    for (const [i, delay] of KILL_DELAYS.entries()) {
      const attempt = await run(killed, i === 0 ? [] : ['--resume'], delay);
      if (attempt.signal === 'SIGKILL') kills++;
      else {
        assert.equal(attempt.code, 0, `attempt ${i + 1} failed:\n${attempt.stdout}`);
        finished = true;
        break;
      }
    }
    if (!finished) {
      const last = await run(killed, ['--resume']);
      assert.equal(last.code, 0, last.stdout);
    }
    assert.ok(kills >= 2, `the run was killed ${kills} times`);
    assert.deepEqual(log(killed), log(reference), 'the per-epoch log');
    assert.equal(log(killed).length, EPOCHS);
    assert.ok(
      weights(killed).equals(weights(reference)),
      'weights and optimizer state, bit for bit',
    );
  } finally {
    rmSync(reference, { recursive: true, force: true });
    rmSync(killed, { recursive: true, force: true });
  }
});
