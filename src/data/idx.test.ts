import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readDataFile } from './bytes.js';
import { DataFormatError, DataNotFoundError } from './errors.js';
import { encodeIdx, parseIdx, parseIdxImages, parseIdxLabels } from './idx.js';
import {
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_SEARCH_DIRS,
  findIdxDataDir,
  loadFashionMnist,
  loadMnist,
} from './mnist.js';

function temporaryDir(): string {
  return mkdtempSync(join(tmpdir(), 'tfjs-sam-idx-'));
}

function syntheticImages(count: number): Uint8Array {
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7 + 3) % 256;
  return images;
}

const syntheticLabels = (count: number) => Uint8Array.from({ length: count }, (_, i) => i % 10);

function writeIdxDataset(dir: string, { train = 12, test = 5, gzip = false } = {}): void {
  mkdirSync(dir, { recursive: true });
  const write = (stem: string, bytes: Uint8Array) =>
    writeFileSync(join(dir, gzip ? `${stem}.gz` : stem), gzip ? gzipSync(bytes) : bytes);
  write('train-images-idx3-ubyte', encodeIdx([train, 28, 28], syntheticImages(train)));
  write('train-labels-idx1-ubyte', encodeIdx([train], syntheticLabels(train)));
  write('t10k-images-idx3-ubyte', encodeIdx([test, 28, 28], syntheticImages(test)));
  write('t10k-labels-idx1-ubyte', encodeIdx([test], syntheticLabels(test)));
}

/** Asserts `action` throws a DataFormatError about `file` whose message matches `pattern`. */
function assertFormatError(action: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof DataFormatError, `expected DataFormatError, got ${String(error)}`);
    assert.equal(error.file, file);
    assert.ok(error.message.startsWith(`${file}: `), error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

const images3 = encodeIdx([3, 28, 28], syntheticImages(3));

test('IDX header: magic 0x00000803, big-endian dims, data after a 16-byte header', () => {
  assert.deepEqual(
    Array.from(images3.subarray(0, 16)),
    [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 28, 0, 0, 0, 28],
  );
  assert.equal(images3.length, 16 + 3 * 784);
  const parsed = parseIdxImages(images3, 'x', { rows: 28, columns: 28 });
  assert.equal(parsed.count, 3);
  assert.deepEqual(parsed.images, syntheticImages(3));
});

test('IDX round trip through files, raw and gzipped, detected by content not name', async () => {
  const dir = temporaryDir();
  try {
    const labels = syntheticLabels(7);
    const labelBytes = encodeIdx([7], labels);
    // A raw file named .gz and a gzipped file without the extension: both must load.
    writeFileSync(join(dir, 'raw.gz'), labelBytes);
    writeFileSync(join(dir, 'compressed'), gzipSync(labelBytes));
    writeFileSync(join(dir, 'images.gz'), gzipSync(images3));
    for (const name of ['raw.gz', 'compressed']) {
      const file = join(dir, name);
      assert.deepEqual(parseIdxLabels(await readDataFile(file), file, 10), labels, name);
    }
    const file = join(dir, 'images.gz');
    assert.deepEqual(parseIdxImages(await readDataFile(file), file).images, syntheticImages(3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad magic number: names the file, the expected and the found bytes', () => {
  const bytes = images3.slice();
  bytes[0] = 0x50;
  bytes[1] = 0x4b;
  assertFormatError(
    () => parseIdx(bytes, 'a.idx', 3),
    'a.idx',
    /bad magic number: expected 0x00 0x00 <type> <ndims>.*found 0x50 0x4b 0x08 0x03/,
  );
});

test('wrong data type code: says which type was found and that 0x08 was expected', () => {
  const bytes = images3.slice();
  bytes[2] = 0x0d;
  assertFormatError(
    () => parseIdx(bytes, 'f.idx', 3),
    'f.idx',
    /data type is 0x0d \(float32\); expected 0x08 \(unsigned byte\)/,
  );
  bytes[2] = 0x42;
  assertFormatError(() => parseIdx(bytes, 'f.idx', 3), 'f.idx', /unknown IDX data type code 0x42/);
});

test('wrong number of dimensions: a label file where images are expected, and back', () => {
  const labels = encodeIdx([3], syntheticLabels(3));
  assertFormatError(
    () => parseIdxImages(labels, 'l.idx'),
    'l.idx',
    /has 1 dimension\(s\).*expected 3 .*Is this a label file\?/,
  );
  assertFormatError(
    () => parseIdxLabels(images3, 'i.idx', 10),
    'i.idx',
    /has 3 dimension\(s\).*expected 1 .*Is this an image file\?/,
  );
});

test('wrong image size: 32×32 where 28×28 is expected', () => {
  const bytes = encodeIdx([2, 32, 32], new Uint8Array(2 * 32 * 32));
  assertFormatError(
    () => parseIdxImages(bytes, 'c.idx', { rows: 28, columns: 28 }),
    'c.idx',
    /images are 32×32; expected 28×28/,
  );
});

test('truncated files: empty, inside the header, inside the data', () => {
  assertFormatError(() => parseIdx(new Uint8Array(0), 'e', 3), 'e', /is 0 bytes long/);
  assertFormatError(() => parseIdx(images3.subarray(0, 10), 'h', 3), 'h', /truncated header/);
  assertFormatError(
    () => parseIdx(images3.subarray(0, images3.length - 100), 't', 3),
    't',
    new RegExp(
      `truncated: 100 bytes missing\\. The header declares dimensions 3×28×28 = 2352 data ` +
        `bytes, so the file should be 2368 bytes \\(after gunzip\\); found 2268`,
    ),
  );
});

test('trailing bytes after the declared data are an error too', () => {
  const bytes = new Uint8Array(images3.length + 5);
  bytes.set(images3);
  assertFormatError(() => parseIdx(bytes, 'x', 3), 'x', /5 unexpected trailing bytes/);
});

test('label out of range names the sample and the valid range', () => {
  const labels = syntheticLabels(6);
  labels[4] = 11;
  assertFormatError(
    () => parseIdxLabels(encodeIdx([6], labels), 'y', 10),
    'y',
    /label 11 at sample 4 is out of range; expected 0\.\.9/,
  );
});

test('truncated gzip stream: says the file is gzip but does not decompress', async () => {
  const dir = temporaryDir();
  try {
    const file = join(dir, 'cut');
    const compressed = gzipSync(images3);
    writeFileSync(file, compressed.subarray(0, compressed.length - 20));
    await assert.rejects(readDataFile(file), (error: unknown) => {
      assert.ok(error instanceof DataFormatError);
      assert.match(error.message, /gzip magic 1f 8b but does not decompress/);
      assert.equal(error.file, file);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadMnist reads a folder of raw files; loadFashionMnist one of gzipped files', async () => {
  const dir = temporaryDir();
  try {
    writeIdxDataset(join(dir, 'raw'), { train: 12, test: 5 });
    writeIdxDataset(join(dir, 'gz'), { train: 8, test: 3, gzip: true });
    const mnist = await loadMnist({ dataDir: join(dir, 'raw') });
    assert.equal(mnist.train.count, 12);
    assert.equal(mnist.test.count, 5);
    assert.deepEqual(mnist.train.shape, [28, 28, 1]);
    assert.deepEqual(mnist.train.images, syntheticImages(12));
    assert.deepEqual(mnist.test.labels, syntheticLabels(5));
    const fashion = await loadFashionMnist({ dataDir: join(dir, 'gz') });
    assert.equal(fashion.train.count, 8);
    assert.equal(fashion.train.classes, 10);
    assert.equal(fashion.train.classNames?.[9], 'Ankle boot');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('image/label count mismatch names both files and both counts', async () => {
  const dir = temporaryDir();
  try {
    writeIdxDataset(dir, { train: 12, test: 5 });
    const labelsFile = join(dir, 'train-labels-idx1-ubyte');
    writeFileSync(labelsFile, encodeIdx([11], syntheticLabels(11)));
    await assert.rejects(loadMnist({ dataDir: dir }), (error: unknown) => {
      assert.ok(error instanceof DataFormatError);
      assert.equal(error.file, labelsFile);
      assert.match(
        error.message,
        new RegExp(`has 11 labels but .*train-images-idx3-ubyte has 12 images`),
      );
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a given dataDir that lacks files: lists the missing files and the way out', async () => {
  const dir = temporaryDir();
  try {
    writeIdxDataset(dir);
    rmSync(join(dir, 't10k-labels-idx1-ubyte'));
    await assert.rejects(loadFashionMnist({ dataDir: dir }), (error: unknown) => {
      assert.ok(error instanceof DataNotFoundError);
      assert.match(error.message, /lacks t10k-labels-idx1-ubyte\[\.gz\]\./);
      assert.doesNotMatch(error.message, /train-images/);
      assert.match(error.message, /apt-get install dataset-fashion-mnist/);
      assert.match(error.message, /--data-dir/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('auto-detection takes the first complete folder; the error lists every candidate', async () => {
  const dir = temporaryDir();
  try {
    const empty = join(dir, 'empty');
    const partial = join(dir, 'partial');
    const complete = join(dir, 'complete');
    const dotted = join(dir, 'dotted');
    mkdirSync(empty);
    writeIdxDataset(partial);
    rmSync(join(partial, 'train-images-idx3-ubyte'));
    writeIdxDataset(complete, { train: 4, test: 2, gzip: true });
    writeIdxDataset(dotted, { train: 6, test: 2 });
    for (const stem of ['train-images', 'train-labels', 't10k-images', 't10k-labels']) {
      const kind = stem.endsWith('images') ? 3 : 1;
      renameSync(
        join(dotted, `${stem}-idx${kind}-ubyte`),
        join(dotted, `${stem}.idx${kind}-ubyte`),
      );
    }

    assert.equal(findIdxDataDir([empty, partial, complete, dotted]), complete);
    assert.equal(findIdxDataDir([empty, dotted, complete]), dotted, 'accepts a dot before idx');
    const found = await loadFashionMnist({ searchDirs: [empty, partial, complete] });
    assert.equal(found.train.count, 4);

    await assert.rejects(loadFashionMnist({ searchDirs: [empty, partial] }), (error: unknown) => {
      assert.ok(error instanceof DataNotFoundError);
      assert.match(error.message, new RegExp(`${empty}, ${partial}\\.`));
      assert.match(error.message, /apt-get install dataset-fashion-mnist/);
      assert.match(error.message, /--data-dir/);
      return true;
    });
    await assert.rejects(
      loadMnist({ searchDirs: [empty] }),
      /MNIST: no data folder given.*dataDir/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the default search starts at the Debian package location', () => {
  assert.equal(DEBIAN_FASHION_MNIST_DIR, '/usr/share/datasets/fashion-mnist');
  assert.equal(FASHION_MNIST_SEARCH_DIRS[0], DEBIAN_FASHION_MNIST_DIR);
});

const debianInstalled = findIdxDataDir([DEBIAN_FASHION_MNIST_DIR]) !== undefined;
test(
  'the Debian-installed Fashion-MNIST loads with the published counts',
  {
    skip: debianInstalled
      ? false
      : `${DEBIAN_FASHION_MNIST_DIR} not present (apt-get install dataset-fashion-mnist)`,
  },
  async () => {
    const { train, test: testSplit } = await loadFashionMnist();
    assert.equal(train.count, 60000);
    assert.equal(testSplit.count, 10000);
  },
);
