/**
 * Your own model and data in the CLI: `--model path/to/model.json` and `--data` as CSV, JSON
 * Lines, NPY pairs, IDX pairs or an image folder, with --validation, --label-noise and
 * --train-subset as for the built-in data; errors name the file, the row or image, and what was
 * expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { runCli } from './testing/cli.js';
import type { ResultsFile } from './results.js';

const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-own-data-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const CLASSES = 3;
const FEATURES = 4;

/** Row i: class i mod 3, the feature of its class high. */
function rows(count: number, offset = 0): Array<{ features: number[]; label: number }> {
  return Array.from({ length: count }, (_, r) => {
    const i = r + offset;
    const label = i % CLASSES;
    const features = Array.from({ length: FEATURES }, (_, f) =>
      Number(((f === label ? 1 : 0) + 0.1 * Math.sin(i * 7 + f)).toFixed(4)),
    );
    return { features, label };
  });
}

const csv = (data: ReturnType<typeof rows>) =>
  ['f1,f2,f3,f4,label', ...data.map((r) => [...r.features, r.label].join(','))].join('\n') + '\n';

function classifier(inputShape: number[], activation = 'softmax'): string {
  const model = tfl.sequential({
    layers: [
      ...(inputShape.length > 1 ? [tfl.layers.flatten({ inputShape })] : []),
      tfl.layers.dense({
        units: 8,
        activation: 'relu',
        ...(inputShape.length > 1 ? {} : { inputShape }),
      }),
      tfl.layers.dense({ units: CLASSES, activation: activation as 'softmax' }),
    ],
  });
  const json = JSON.stringify(model.toJSON(null, false));
  model.dispose();
  return json;
}

function write(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const trainCsv = write('train.csv', csv(rows(120)));
const testCsv = write('test.csv', csv(rows(30, 1000)));
const modelFile = write('model.json', classifier([FEATURES]));
const QUICK = ['--epochs', '2', '--batch-size', '20', '--lr', '0.1', '--no-progress'];

const results = (out: string) =>
  JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ResultsFile;
const weights = (out: string, label: string, seed: number) =>
  readFileSync(join(out, 'runs', `${label}-seed${seed}`, 'checkpoint', 'weights.bin'));

test('compare with --model model.json and CSV --data/--test-data: validation, noise and subset apply; each seed its own initialization', async () => {
  const out = join(dir, 'compare');
  const args = [
    ...['compare', '--optimizers', 'sgd,sam', '--model', modelFile, '--data', trainCsv],
    ...['--test-data', testCsv, '--validation', '0.2', '--label-noise', '0.1'],
    ...['--train-subset', '90', '--seeds', '1,2', ...QUICK, '--out', out],
  ];
  await runCli(args);
  const file = results(out);
  assert.match(
    file.data,
    /train\.csv: 72 training samples, 18 validation, 30 test, 10% symmetric label noise .*\(7 flipped/,
  );
  for (const optimizer of file.optimizers) {
    for (const run of optimizer.runs) {
      assert.equal(run.completed, true);
      assert.ok(run.final?.testAccuracy !== null && run.final?.validationAccuracy !== null);
    }
  }
  assert.ok(!weights(out, 'sgd', 1).equals(weights(out, 'sgd', 2)), 'seeds differ');
  const again = join(dir, 'compare-again');
  await runCli([...args.slice(0, -1), again]);
  assert.ok(weights(out, 'sgd', 1).equals(weights(again, 'sgd', 1)), 'a seed is reproducible');
});

test('JSON Lines, NPY pairs, IDX pairs and image folders train, and a saved model with weights starts each seed from them', async () => {
  const jsonl = write(
    'train.jsonl',
    rows(60)
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  await runCli([
    'train',
    '--model',
    modelFile,
    '--data',
    jsonl,
    ...QUICK,
    '--out',
    join(dir, 'jl'),
  ]);

  // NPY: float32 (60, 4) samples, int64 (60,) labels.
  const npy = (descr: string, shape: number[], body: Uint8Array) => {
    let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
    header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
    const head = Buffer.concat([
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]),
      Buffer.from(Uint16Array.of(header.length).buffer),
      Buffer.from(header, 'latin1'),
    ]);
    return Buffer.concat([head, body]);
  };
  const data = rows(60);
  const x = npy(
    '<f4',
    [60, FEATURES],
    new Uint8Array(Float32Array.from(data.flatMap((r) => r.features)).buffer),
  );
  const y = npy(
    '<i8',
    [60],
    new Uint8Array(BigInt64Array.from(data, (r) => BigInt(r.label)).buffer),
  );
  const pair = `${write('x.npy', x)},${write('y.npy', y)}`;
  await runCli([
    'train',
    '--model',
    modelFile,
    '--data',
    pair,
    ...QUICK,
    '--out',
    join(dir, 'npy'),
  ]);

  // IDX (gzipped): 60 images of 4×4 bytes and their labels, on the zoo MLP.
  const idx = (dims: number[], body: number[]) =>
    gzipSync(
      Buffer.concat([
        Buffer.from([0, 0, 0x08, dims.length]),
        ...dims.map((d) => Buffer.from([d >>> 24, (d >>> 16) & 255, (d >>> 8) & 255, d & 255])),
        Buffer.from(body),
      ]),
    );
  const pixels = data.flatMap((r) =>
    Array.from({ length: 16 }, (_, p) => (p % 4 === r.label ? 250 : 10)),
  );
  const idxPair = `${write('images.idx.gz', idx([60, 4, 4], pixels))},${write(
    'labels.idx.gz',
    idx(
      [60],
      data.map((r) => r.label),
    ),
  )}`;
  await runCli(['train', '--model', 'mlp', '--data', idxPair, ...QUICK, '--out', join(dir, 'idx')]);

  // An image folder: PNG and JPEG, 8×8, two classes, RGB converted to the model's one channel.
  const folder = join(dir, 'images');
  for (const [name, value] of [
    ['dark', 30],
    ['light', 220],
  ] as const) {
    mkdirSync(join(folder, name), { recursive: true });
    for (let i = 0; i < 6; i++) {
      const rgba = new Uint8Array(8 * 8 * 4).map((_, k) => (k % 4 === 3 ? 255 : value + i));
      const file = join(folder, name, `${i}.${i % 2 === 0 ? 'png' : 'jpg'}`);
      writeFileSync(
        file,
        i % 2 === 0
          ? encodePng({ width: 8, height: 8, data: rgba, channels: 4 })
          : jpeg.encode({ width: 8, height: 8, data: rgba }, 95).data,
      );
    }
  }
  const imageModel = write('image-model.json', classifier([8, 8, 1]));
  await runCli([
    'train',
    '--model',
    imageModel,
    '--data',
    folder,
    ...QUICK,
    '--out',
    join(dir, 'img'),
  ]);
  assert.match(results(join(dir, 'img')).data, /images: 12 training samples, no test data/);

  // A model saved with weights: every seed starts from them (at lr 0 they stay there).
  const savedDir = join(dir, 'npy', 'runs', 'sam-seed1', 'checkpoint');
  const out = join(dir, 'from-weights');
  await runCli([
    ...[
      'compare',
      '--optimizers',
      'sgd',
      '--model',
      join(savedDir, 'model.json'),
      '--data',
      trainCsv,
    ],
    ...['--seeds', '1,2', '--epochs', '1', '--lr', '0', '--no-progress', '--out', out],
  ]);
  assert.ok(
    weights(out, 'sgd', 1).equals(weights(out, 'sgd', 2)),
    'both seeds start (and, at lr 0, stay) at the saved weights',
  );
});

test('sweep, sharpness and landscape take your model and data too', async () => {
  await runCli([
    ...['sweep', '--optimizer', 'sam', '--rhos', '0.05', '--model', modelFile, '--data', trainCsv],
    ...QUICK,
    ...['--out', join(dir, 'sweep')],
  ]);
  const runFolder = join(dir, 'compare', 'runs', 'sam-seed1');
  const printed = await runCli([
    ...['sharpness', runFolder, '--data', trainCsv, '--samples', '40', '--iterations', '3'],
    ...['--trace-samples', '2', '--json'],
  ]);
  assert.ok(Number.isFinite((JSON.parse(printed) as { lambdaMax: number }).lambdaMax));
  await runCli([
    ...['landscape', runFolder, '--data', trainCsv, '--test-data', testCsv, '--split', 'test'],
    ...['--samples', '20', '--points1d', '3', '--no-2d', '--out', join(dir, 'landscape')],
  ]);
  assert.ok(readFileSync(join(dir, 'landscape', 'landscape.json'), 'utf8').includes('slice1d'));
});

test('data that does not fit, and files that cannot be read, are named with what was expected', async () => {
  const out = join(dir, 'errors');
  const train = (...args: string[]) => runCli(['train', ...args, ...QUICK, '--out', out]);
  const wide = write('wide-model.json', classifier([5]));
  await assert.rejects(
    train('--model', wide, '--data', trainCsv),
    /train\.csv: --data: each sample has 4 values \(4\), but the model's input is \[5\] \(5 values\)/,
  );
  const badLabel = write(
    'bad-label.csv',
    csv(rows(10))
      .replace(/\n1,0,0,0,0\n/, '\n1,0,0,0,0\n')
      .replace(/,2\n/, ',7\n'),
  );
  await assert.rejects(
    train('--model', modelFile, '--data', badLabel),
    /bad-label\.csv line 4: --data: label 7 is outside the model's 3 outputs \(classes 0\.\.2\)/,
  );
  const ragged = write('ragged.csv', csv(rows(10)).replace(/\n([^\n]*)\n/, '\n$1,9\n'));
  await assert.rejects(
    train('--model', modelFile, '--data', ragged),
    /ragged\.csv: line 2 has 6 columns; expected 5, as the header has \(4 features and the label\)/,
  );
  const broken = join(dir, 'broken');
  mkdirSync(join(broken, 'a'), { recursive: true });
  writeFileSync(join(broken, 'a', 'not-really.png'), 'hello');
  await assert.rejects(
    train('--model', 'mlp', '--data', broken),
    /broken\/a\/not-really\.png: cannot be decoded as an image: it is neither a PNG nor a JPEG file/,
  );
  const linear = write('linear-model.json', classifier([FEATURES], 'linear'));
  await assert.rejects(
    train('--model', linear, '--data', trainCsv),
    /--model .*linear-model\.json: its output layer .* has no softmax/,
  );
});
