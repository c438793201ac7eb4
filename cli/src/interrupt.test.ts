import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const EPOCHS = 40;

test('Ctrl-C during training stops after the current step and leaves a checkpoint', async () => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-sam-interrupt-'));
  try {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'train',
        '--optimizer',
        'sgd',
        '--model',
        'mlp',
        '--epochs',
        String(EPOCHS),
        '--train-subset',
        '500',
        '--out',
        out,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!signalled && /epoch 1\//.test(stdout)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.ok(
      signalled,
      `training never reported an epoch; stdout:\n${stdout}\nstderr:\n${stderr}`,
    );
    assert.equal(code, 130, `exit code ${code}; stderr:\n${stderr}`);
    assert.match(stderr, /stopping after this step and writing a checkpoint/);
    assert.match(stdout, /--resume/, 'the user is told how to continue');

    const runDirs = join(out, 'runs', 'sgd-seed1', 'checkpoint');
    assert.ok(existsSync(join(runDirs, 'model.json')), 'checkpoint model written');
    const state = JSON.parse(readFileSync(join(runDirs, 'state.json'), 'utf8')) as {
      epoch: number;
      step: number;
    };
    assert.ok(state.epoch >= 1, `checkpoint after epoch ${state.epoch}`);
    assert.ok(state.epoch < EPOCHS, `the run stopped early (epoch ${state.epoch} of ${EPOCHS})`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
