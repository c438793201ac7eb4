import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { bundledFashionMnistDir, findPackageRoot, loadBundledFashionMnist } from './bundled.js';
import { classCounts, validateDataset } from './dataset.js';
import { DataNotFoundError } from './errors.js';

test('the bundled Fashion-MNIST subset loads: 2,000 + 500 samples, 200 and 50 per class', async () => {
  const { train, test: testSplit } = await loadBundledFashionMnist();
  validateDataset(train, 'train');
  validateDataset(testSplit, 'test');
  assert.equal(train.count, 2000);
  assert.equal(testSplit.count, 500);
  assert.deepEqual(train.shape, [28, 28, 1]);
  assert.deepEqual(classCounts(train.labels, 10), new Array(10).fill(200));
  assert.deepEqual(classCounts(testSplit.labels, 10), new Array(10).fill(50));
  assert.equal(train.classNames?.[0], 'T-shirt/top');
  // Real images, not blanks: Fashion-MNIST's mean pixel is about 73/255.
  let sum = 0;
  for (const value of train.images) sum += value;
  const mean = sum / train.images.length;
  assert.ok(mean > 50 && mean < 100, `mean pixel ${mean}`);
});

test('the bundled folder is found from src/ and from a compiled dist/ layout alike', () => {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-sam-pkg-'));
  try {
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'data', 'fashion-mnist-mini'), { recursive: true });
    for (const moduleDir of [join(root, 'src', 'data'), join(root, 'dist', 'data')]) {
      mkdirSync(moduleDir, { recursive: true });
      const moduleUrl = pathToFileURL(join(moduleDir, 'bundled.js')).href;
      assert.equal(bundledFashionMnistDir(moduleUrl), join(root, 'data', 'fashion-mnist-mini'));
    }
    assert.equal(findPackageRoot(join(root, 'dist', 'data')), root);
    rmSync(join(root, 'data'), { recursive: true });
    assert.throws(
      () => bundledFashionMnistDir(pathToFileURL(join(root, 'dist', 'data', 'bundled.js')).href),
      (error: unknown) =>
        error instanceof DataNotFoundError &&
        error.message.includes(root) &&
        error.message.includes('scripts/make-bundled-data.ts'),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("the CommonJS build finds it too: dist/cjs/package.json (no name) is passed over, a named package's is not", () => {
  const root = mkdtempSync(join(tmpdir(), 'tfjs-sam-pkg-'));
  try {
    writeFileSync(join(root, 'package.json'), '{"name": "tfjs-sam"}');
    mkdirSync(join(root, 'data', 'fashion-mnist-mini'), { recursive: true });
    const cjsData = join(root, 'dist', 'cjs', 'data');
    mkdirSync(cjsData, { recursive: true });
    writeFileSync(join(root, 'dist', 'cjs', 'package.json'), '{"type": "commonjs"}');
    const moduleUrl = pathToFileURL(join(cjsData, 'bundled.js')).href;
    assert.equal(bundledFashionMnistDir(moduleUrl), join(root, 'data', 'fashion-mnist-mini'));

    const inner = join(root, 'node_modules', 'other');
    mkdirSync(join(inner, 'dist'), { recursive: true });
    writeFileSync(join(inner, 'package.json'), '{"name": "other"}');
    assert.throws(
      () => bundledFashionMnistDir(pathToFileURL(join(inner, 'dist', 'bundled.js')).href),
      (error: unknown) => error instanceof DataNotFoundError && error.message.includes(inner),
      "another package's data folder is never borrowed",
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
