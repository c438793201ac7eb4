import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  CIFAR10_TEST_FILE,
  CIFAR10_TRAIN_FILES,
  loadCifar10,
  loadCifar100,
  parseCifarRecords,
} from './cifar.js';
import { DataFormatError, DataNotFoundError } from './errors.js';

const PLANE = 32 * 32;

/** Pixel value of record `record`, channel `c`, position `p` in the synthetic files. */
const pixel = (record: number, c: number, p: number) => (record * 31 + c * 101 + p * 7) % 256;

/** Records in CIFAR's planar layout: label byte(s), then the R, G and B planes. */
function cifarBytes(labelRows: number[][]): Uint8Array {
  const labelBytes = labelRows[0]?.length ?? 1;
  const recordBytes = labelBytes + 3 * PLANE;
  const bytes = new Uint8Array(labelRows.length * recordBytes);
  labelRows.forEach((labels, record) => {
    const start = record * recordBytes;
    bytes.set(labels, start);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < PLANE; p++)
        bytes[start + labelBytes + c * PLANE + p] = pixel(record, c, p);
    }
  });
  return bytes;
}

function withDir(body: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-cifar-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('CIFAR records: planar RGB becomes NHWC, labels are read per record', () => {
  const parsed = parseCifarRecords(cifarBytes([[3], [9]]), 'b.bin', [
    { name: 'class', classes: 10 },
  ]);
  assert.equal(parsed.count, 2);
  assert.deepEqual(Array.from(parsed.labels[0] ?? []), [3, 9]);
  for (const [record, y, x] of [
    [0, 0, 0],
    [1, 0, 1],
    [1, 5, 17],
    [1, 31, 31],
  ] as const) {
    const p = y * 32 + x;
    const hwc = record * 3 * PLANE + (y * 32 + x) * 3;
    const rgb = Array.from(parsed.images.subarray(hwc, hwc + 3));
    assert.deepEqual(rgb, [pixel(record, 0, p), pixel(record, 1, p), pixel(record, 2, p)]);
  }
});

test(
  'loadCifar10: five train batches concatenated in order, test batch, parent folder accepted',
  withDir(async (dir) => {
    const batchDir = join(dir, 'cifar-10-batches-bin');
    mkdirSync(batchDir);
    CIFAR10_TRAIN_FILES.forEach((file, batch) =>
      writeFileSync(join(batchDir, file), cifarBytes([[batch], [batch + 5]])),
    );
    writeFileSync(join(batchDir, CIFAR10_TEST_FILE), gzipSync(cifarBytes([[1], [2], [3]])));
    for (const dataDir of [batchDir, dir]) {
      const { train, test: testSplit } = await loadCifar10({ dataDir });
      assert.equal(train.count, 10);
      assert.deepEqual(train.shape, [32, 32, 3]);
      assert.equal(train.images.length, 10 * 3072);
      assert.deepEqual(Array.from(train.labels), [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]);
      assert.deepEqual(Array.from(testSplit.labels), [1, 2, 3]);
      assert.equal(train.classNames?.[0], 'airplane');
    }
  }),
);

test(
  'loadCifar100: coarse and fine labels, labelMode picks which fills labels',
  withDir(async (dir) => {
    writeFileSync(
      join(dir, 'train.bin'),
      cifarBytes([
        [19, 99],
        [0, 42],
      ]),
    );
    writeFileSync(join(dir, 'test.bin'), cifarBytes([[7, 70]]));
    const fine = await loadCifar100({ dataDir: dir });
    assert.equal(fine.train.classes, 100);
    assert.deepEqual(Array.from(fine.train.labels), [99, 42]);
    assert.deepEqual(Array.from(fine.train.coarseLabels), [19, 0]);
    assert.deepEqual(Array.from(fine.test.fineLabels), [70]);
    const coarse = await loadCifar100({ dataDir: dir, labelMode: 'coarse' });
    assert.equal(coarse.train.classes, 20);
    assert.deepEqual(Array.from(coarse.train.labels), [19, 0]);
  }),
);

test('a file whose size is not a whole number of records is rejected with the numbers', () => {
  const bytes = cifarBytes([[1], [2]]).subarray(0, 3073 + 100);
  assert.throws(
    () => parseCifarRecords(bytes, 'cut.bin', [{ name: 'class', classes: 10 }]),
    (error: unknown) => {
      assert.ok(error instanceof DataFormatError);
      assert.equal(error.file, 'cut.bin');
      assert.match(
        error.message,
        /size 3173 bytes is not a positive multiple of the 3073-byte record \(1 class byte \+ 3072 pixel bytes\); 100 bytes left over after 1 whole record\(s\)/,
      );
      return true;
    },
  );
  assert.throws(
    () => parseCifarRecords(new Uint8Array(0), 'empty.bin', [{ name: 'class', classes: 10 }]),
    /empty\.bin: size 0 bytes/,
  );
});

test('a label out of range names the record and hints at CIFAR-10 vs CIFAR-100', () => {
  assert.throws(
    () =>
      parseCifarRecords(cifarBytes([[1], [2], [57]]), 'b.bin', [{ name: 'class', classes: 10 }]),
    /b\.bin: record 2 \(byte offset 6146\) has class label 57; expected 0\.\.9.*CIFAR-100 rather than CIFAR-10/,
  );
  assert.throws(
    () =>
      parseCifarRecords(cifarBytes([[20, 3]]), 't.bin', [
        { name: 'coarse', classes: 20 },
        { name: 'fine', classes: 100 },
      ]),
    /record 0 \(byte offset 0\) has coarse label 20; expected 0\.\.19/,
  );
});

test(
  'missing files or folder: the error lists them and says where to get the binary version',
  withDir(async (dir) => {
    writeFileSync(join(dir, 'data_batch_1.bin'), cifarBytes([[0]]));
    await assert.rejects(loadCifar10({ dataDir: dir }), (error: unknown) => {
      assert.ok(error instanceof DataNotFoundError);
      assert.match(error.message, /lack data_batch_2\.bin, .*test_batch\.bin/);
      assert.doesNotMatch(error.message, /data_batch_1/);
      assert.match(error.message, /binary version/);
      return true;
    });
    await assert.rejects(loadCifar100({ dataDir: '' }), /CIFAR-100: option 'dataDir' is required/);
  }),
);
