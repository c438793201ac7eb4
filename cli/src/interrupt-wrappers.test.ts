/**
 * Ctrl-C through the programs that start the CLI: the terminal sends SIGINT to the whole
 * foreground process group (emulated here: the command runs in a process group of its own, and the
 * group is signalled), and npm, npx and tsx forward it once more to their child. The run must still
 * stop after the step, write its checkpoint, say how to resume, and show the epochs it ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EPOCHS = 40;
const TRAIN = ['train', '--optimizer', 'sgd', '--model', 'mlp', '--epochs', String(EPOCHS)];

async function interrupt(command: string, args: string[], out: string) {
  const child = spawn(command, [...args, ...TRAIN, '--train-subset', '500', '--out', out], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let signalled = false;
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!signalled && /epoch 1\//.test(stdout)) {
      signalled = true;
      // Into the next epoch's steps, then Ctrl-C to the whole group, as a terminal does.
      setTimeout(() => process.kill(-(child.pid as number), 'SIGINT'), 100);
    }
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (c, s) => resolve([c, s])),
  );
  return { code, signal, stdout, stderr, signalled };
}

for (const [name, command, args] of [
  ['npm run', 'npm', ['run', '--silent', 'cli', '--']],
  ['npx tsx', 'npx', ['tsx', 'cli/src/main.ts']],
] as Array<[string, string, string[]]>) {
  test(`Ctrl-C through ${name}: the step ends, the checkpoint is written, resuming is explained`, async () => {
    const out = mkdtempSync(join(tmpdir(), 'tfjs-sam-ctrl-c-'));
    try {
      const run = await interrupt(command, args, out);
      const report = `exit ${run.code} ${run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      assert.ok(run.signalled, `training never reported an epoch:\n${report}`);
      assert.ok(run.code === 130 || run.signal === 'SIGINT', report);
      assert.match(run.stderr, /stopping after this step and writing a checkpoint/, report);
      assert.match(run.stdout, /continue with the same command plus --resume/, report);
      assert.match(run.stdout, new RegExp(`sgd\\s+\\d+ of ${EPOCHS} \\(interrupted\\)`), report);
      const checkpoint = join(out, 'runs', 'sgd-seed1', 'checkpoint');
      assert.ok(existsSync(join(checkpoint, 'weights.bin')), report);
      const state = JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8')) as {
        epoch: number;
      };
      assert.ok(state.epoch >= 1 && state.epoch < EPOCHS, `checkpoint at epoch ${state.epoch}`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
