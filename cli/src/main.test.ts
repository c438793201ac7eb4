import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/cli.js';
import type { ResultsFile } from './results.js';

test('compare on the bundled data writes results.json, report.html and plots', async () => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-sam-cli-'));
  try {
    const printed = await runCli([
      'compare',
      '--optimizers',
      'sgd,sam(rho=0.1)',
      '--epochs',
      '1',
      '--seeds',
      '1,2',
      '--model',
      'mlp',
      '--train-subset',
      '300',
      '--validation',
      '0.2',
      '--batch-size',
      '50',
      '--no-progress',
      '--sharpness',
      '64',
      '--out',
      out,
      '--budget',
      'equal-compute',
    ]);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
    assert.equal(results.kind, 'compare');
    assert.equal(results.budget, 'equal-compute');
    assert.deepEqual(
      results.optimizers.map((o) => [o.label, o.epochs, o.passesPerStep, o.runs.length]),
      [
        ['sgd', 2, 1, 2],
        ['sam(rho=0.1)', 1, 2, 2],
      ],
    );
    for (const optimizer of results.optimizers) {
      for (const runSummary of optimizer.runs) {
        assert.equal(runSummary.completed, true);
        assert.ok(
          runSummary.final !== null &&
            runSummary.final.testAccuracy !== null &&
            runSummary.final.validationAccuracy !== null,
        );
      }
      assert.ok(
        optimizer.std.testAccuracy !== undefined && optimizer.mean.testAccuracy !== undefined,
      );
    }
    for (const optimizer of results.optimizers) {
      const sharpness = optimizer.sharpness;
      assert.ok(sharpness !== undefined, `${optimizer.label}: no sharpness`);
      assert.equal(sharpness.samples, 64);
      assert.ok(sharpness.lambdaMax > 0 && Number.isFinite(sharpness.lambdaMax));
      assert.ok(sharpness.worstCaseSharpness >= 0);
    }
    assert.match(results.data, /fashion-mnist-mini: 240 training samples, 60 validation, 500 test/);
    assert.match(printed, /sam\(rho=0\.1\)\s+1\s+2\.00/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok((html.match(/<svg/g) ?? []).length >= 4, 'report embeds the plots');
    assert.match(html, /λ_max/, 'the report table shows the sharpness');
    for (const plot of [
      'test-accuracy',
      'validation-accuracy',
      'generalization-gap',
      'step-time',
    ]) {
      assert.ok(
        existsSync(join(out, 'plots', `${plot}.png`)) &&
          existsSync(join(out, 'plots', `${plot}.svg`)),
        plot,
      );
    }
    const rerendered = await runCli(['report', out]);
    assert.match(rerendered, /report\.html/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('compare refuses --m-sharpness for a method that changes the update, before training', async () => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-sam-cli-'));
  try {
    await assert.rejects(
      runCli([
        'compare',
        '--optimizers',
        'sgd,gsam',
        '--m-sharpness',
        '2',
        '--model',
        'mlp',
        '--out',
        out,
      ]),
      /--m-sharpness 2: gsam changes the SAM update itself.*drop gsam or --m-sharpness/,
    );
    await assert.rejects(
      runCli(['compare', '--optimizers', 'sgd,esam', '--m-sharpness', '2', '--out', out]),
      /--m-sharpness 2: esam selects the sharpest 0\.5 of each batch.*Use esam\(gamma=1\)/,
    );
    assert.equal(existsSync(join(out, 'runs')), false, 'nothing was trained');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bad arguments are refused before any training, with a message that says what to use', async () => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-sam-cli-'));
  const cases: Array<[string[], RegExp]> = [
    [
      ['--optimizers', 'sgd,sam(rhoo=1)'],
      /sam\(rhoo=1\): SAM: unknown option 'rhoo'. Known options: rho,/,
    ],
    [
      ['--optimizers', 'sgd,xsam(alphaDelta=0)'],
      /xsam\(alphaDelta=0\): XSAM: option 'alphaDelta' is 0/,
    ],
    [['--optimizers', 'sgd,sma'], /unknown optimizer 'sma' in 'sma'. Known: sgd, momentum/],
    [['--model', 'vgg'], /--model is 'vgg'; expected one of mlp, cnn, resnet20/],
    [['--augment', 'spin'], /--augment part 'spin' is not one of crop\[=pad\], flip/],
    [['--epochs', '0'], /--epochs is '0'; expected an integer >= 1/],
    [['--label-noise', '1.5'], /--label-noise is '1.5'; expected a number in \[0, 0.99\]/],
    [['--budget', 'equal-time'], /Allowed choices are equal-steps, equal-compute/],
    [['--dataset', 'cifar10'], /--dataset cifar10 needs --data-dir/],
    [['--dataset', 'fashion-mnist', '--data-dir', out], /lacks train-images-idx3-ubyte/],
  ];
  try {
    for (const [args, message] of cases) {
      await assert.rejects(
        runCli(['compare', '--model', 'mlp', '--train-subset', '100', '--out', out, ...args]),
        message,
        args.join(' '),
      );
      assert.equal(existsSync(join(out, 'runs')), false, `${args.join(' ')}: nothing was trained`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the CLI runs when started through a symlink, as npm installs its bin', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-bin-'));
  try {
    const link = join(dir, 'tfjs-sam');
    symlinkSync(fileURLToPath(new URL('./main.ts', import.meta.url)), link);
    const printed = execFileSync(process.execPath, ['--import', 'tsx', link, '--help'], {
      encoding: 'utf8',
    });
    assert.match(printed, /Usage: tfjs-sam \[options\] \[command\]/);
    assert.match(printed, /compare \[options\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
