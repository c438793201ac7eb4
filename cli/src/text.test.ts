import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './testing/cli.js';
import type { ResultsFile } from './results.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-cli-text-'));
const words = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'omega',
  'sigma',
  'kappa',
  'theta',
  'zeta',
  'eta',
];
const csv = join(dir, 'mail.csv');
writeFileSync(
  csv,
  'body,kind\n' +
    Array.from({ length: 120 }, (_, i) => {
      const spam = i % 2 === 0;
      const text = Array.from({ length: 4 + (i % 5) }, (_, k) => words[(i * 3 + k) % 10]).join(' ');
      return `"${spam ? 'win cash now, ' : ''}${text}",${spam ? 'spam' : 'ham'}`;
    }).join('\n') +
    '\n',
);
const folder = join(dir, 'speeches');
mkdirSync(folder);
for (let d = 0; d < 10; d++) {
  writeFileSync(
    join(folder, `${d}.txt`),
    Array.from({ length: 60 }, (_, k) => words[(d + k) % 7]).join(' '),
  );
}

test("compare on the user's CSV: AdamW vs SAM(AdamW) by default, tokenizer saved, sharpness measured with it", async () => {
  const out = join(dir, 'csv-run');
  const printed = await runCli([
    'compare',
    '--dataset',
    `text:${csv}`,
    '--text-column',
    'body',
    '--label-column',
    'kind',
    '--vocab-size',
    '12',
    '--seq-len',
    '8',
    '--epochs',
    '1',
    '--batch-size',
    '32',
    '--no-progress',
    '--out',
    out,
  ]);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
  assert.deepEqual(
    results.optimizers.map((o) => o.label),
    ['adamw', 'sam'],
  );
  assert.equal(results.model, 'transformer');
  assert.equal(results.settings['base'], 'adamw');
  assert.equal(results.settings['tokenizer'], 'word');
  assert.ok(results.optimizers.every((o) => o.mean.testAccuracy !== undefined));
  assert.match(
    printed,
    /96 training texts, 24 test, classes ham\/spam, word tokenizer, vocabulary 12/,
  );
  const checkpoint = join(out, 'runs', 'sam-seed1', 'checkpoint');
  assert.ok(existsSync(join(checkpoint, 'tokenizer.json')));
  const sharpness = await runCli([
    'sharpness',
    join(out, 'runs', 'sam-seed1'),
    '--dataset',
    `text:${csv}`,
    '--text-column',
    'body',
    '--label-column',
    'kind',
    '--samples',
    '16',
    '--iterations',
    '2',
    '--trace-samples',
    '2',
    '--json',
  ]);
  const report = JSON.parse(sharpness) as { lambdaMax: number; data: string };
  assert.ok(Number.isFinite(report.lambdaMax));
  assert.match(report.data, /16 train samples/);
});

test('compare on a folder of .txt files trains the lm and reports perplexity with its curves', async () => {
  const out = join(dir, 'lm-run');
  await runCli([
    'compare',
    '--dataset',
    `text:${folder}`,
    '--tokenizer',
    'bpe',
    '--vocab-size',
    '30',
    '--seq-len',
    '8',
    '--epochs',
    '2',
    '--batch-size',
    '16',
    '--optimizers',
    'adamw,sam(rho=0.05)',
    '--budget',
    'equal-compute',
    '--no-progress',
    '--out',
    out,
  ]);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
  assert.equal(results.model, 'lm');
  assert.deepEqual(
    results.optimizers.map((o) => o.epochs),
    [4, 2],
    'equal compute: AdamW twice the epochs',
  );
  for (const optimizer of results.optimizers) {
    assert.ok(optimizer.mean.testPerplexity! > 1);
    assert.ok(optimizer.mean.validationPerplexity! > 1);
  }
  assert.ok(existsSync(join(out, 'plots', 'perplexity.svg')));
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /test perplexity/);
});

test('bad text input: each error names the file, line or flag and what to do', async () => {
  const rejects = (args: string[], pattern: RegExp) => assert.rejects(runCli(args), pattern);
  const base = ['compare', '--epochs', '1', '--no-progress', '--out', join(dir, 'bad')];
  await rejects(
    [...base, '--dataset', `text:${csv}`],
    /mail\.csv: line 1: no column 'text' .*'body', 'kind'.*--text-column/,
  );
  await rejects(
    [...base, '--dataset', `text:${csv}`, '--seq-len', '0'],
    /--seq-len is '0'; expected an integer >= 1/,
  );
  await rejects(
    [...base, '--dataset', 'spam'],
    /--dataset is 'spam'; expected one of .*spam-assassin, sotu, or text:FILE/,
  );
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, 'text,label\nhello,a\n"",b\n');
  await rejects(
    [...base, '--dataset', `text:${empty}`],
    /empty\.csv: line 3: the text in column 'text' is empty/,
  );
  const one = join(dir, 'one.csv');
  writeFileSync(one, 'text,label\nhello,a\nworld,a\n');
  await rejects([...base, '--dataset', `text:${one}`], /one class \('a'\).*at least two classes/);
  const latin1 = join(dir, 'latin1.csv');
  writeFileSync(
    latin1,
    Buffer.concat([Buffer.from('text,label\ncaf'), Buffer.from([0xe9]), Buffer.from(',a\nx,b\n')]),
  );
  await rejects(
    [...base, '--dataset', `text:${latin1}`],
    /latin1\.csv: line 2, column 4: byte 0xe9 is not UTF-8/,
  );
  await rejects(
    [
      ...base,
      '--dataset',
      `text:${folder}`,
      '--model',
      'transformer',
      '--seq-len',
      '8',
      '--vocab-size',
      '10',
    ],
    /is a classifier, .*use --model lm/,
  );
  await rejects(
    [
      ...base,
      '--dataset',
      `text:${folder}`,
      '--workers',
      '2',
      '--seq-len',
      '8',
      '--vocab-size',
      '10',
    ],
    /--workers 2: data-parallel steps train classifiers only.*use --workers 1/,
  );
  await rejects(
    [
      ...base,
      '--dataset',
      `text:${csv}`,
      '--text-column',
      'body',
      '--label-column',
      'kind',
      '--model',
      'cnn',
      '--vocab-size',
      '12',
    ],
    /'cnn' reads images, .*use --model transformer or lstm/,
  );
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
