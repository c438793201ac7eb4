import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDataFile } from './bytes.js';
import { DataFormatError, DataNotFoundError } from './errors.js';
import type { ImageDataset, TrainTestDatasets } from './types.js';

/**
 * CIFAR binary version (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records of
 * label byte(s) then 3072 pixel bytes, 1024 red, 1024 green, 1024 blue, each 32×32 row-major.
 * CIFAR-10 records have 1 label byte, CIFAR-100 records 2 (coarse, then fine).
 */
const SIDE = 32;
const CHANNELS = 3;
const PIXELS = SIDE * SIDE * CHANNELS;

export const CIFAR10_CLASS_NAMES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
] as const;

export const CIFAR10_TRAIN_FILES = [1, 2, 3, 4, 5].map((batch) => `data_batch_${batch}.bin`);
export const CIFAR10_TEST_FILE = 'test_batch.bin';
export const CIFAR100_TRAIN_FILE = 'train.bin';
export const CIFAR100_TEST_FILE = 'test.bin';

export interface CifarRecords {
  /** NHWC unsigned bytes. */
  images: Uint8Array;
  /** One array per label byte of a record (CIFAR-10: [label]; CIFAR-100: [coarse, fine]). */
  labels: Uint8Array[];
  count: number;
}

/** Parses fixed-size CIFAR records and reorders pixels from planar (CHW) to NHWC. */
export function parseCifarRecords(
  bytes: Uint8Array,
  file: string,
  labelBytes: { name: string; classes: number }[],
): CifarRecords {
  const recordBytes = labelBytes.length + PIXELS;
  const layout = `${labelBytes.map((label) => `1 ${label.name} byte`).join(' + ')} + ${PIXELS} pixel bytes`;
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    const pickle =
      bytes[0] === 0x80 ? ' It starts like a Python pickle: use the binary version.' : '';
    throw new DataFormatError(
      file,
      `size ${bytes.length} bytes is not a positive multiple of the ${recordBytes}-byte record ` +
        `(${layout}); ${bytes.length % recordBytes} bytes left over after ` +
        `${Math.floor(bytes.length / recordBytes)} whole record(s). The file is truncated, or not ` +
        `the CIFAR "binary version".${pickle}`,
    );
  }
  const count = bytes.length / recordBytes;
  const images = new Uint8Array(count * PIXELS);
  const labels = labelBytes.map(() => new Uint8Array(count));
  const plane = SIDE * SIDE;
  for (let record = 0; record < count; record++) {
    const start = record * recordBytes;
    labelBytes.forEach(({ name, classes }, slot) => {
      const label = bytes[start + slot] as number;
      if (label >= classes) {
        throw new DataFormatError(
          file,
          `record ${record} (byte offset ${start + slot}) has ${name} label ${label}; expected ` +
            `0..${classes - 1}. The file is corrupt, or is CIFAR-${labelBytes.length === 1 ? '100' : '10'} ` +
            `rather than CIFAR-${labelBytes.length === 1 ? '10' : '100'}.`,
        );
      }
      (labels[slot] as Uint8Array)[record] = label;
    });
    const pixelStart = start + labelBytes.length;
    const target = record * PIXELS;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < CHANNELS; c++) {
        images[target + p * CHANNELS + c] = bytes[pixelStart + c * plane + p] as number;
      }
    }
  }
  return { images, labels, count };
}

function concatRecords(parts: CifarRecords[]): CifarRecords {
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  const images = new Uint8Array(count * PIXELS);
  const slots = parts[0]?.labels.length ?? 0;
  const labels = Array.from({ length: slots }, () => new Uint8Array(count));
  let offset = 0;
  for (const part of parts) {
    images.set(part.images, offset * PIXELS);
    part.labels.forEach((slot, index) => (labels[index] as Uint8Array).set(slot, offset));
    offset += part.count;
  }
  return { images, labels, count };
}

export interface CifarOptions {
  /** The extracted binary-version folder (cifar-10-batches-bin / cifar-100-binary) or its parent. */
  dataDir: string;
}

function resolveCifarDir(title: string, dataDir: string, subdir: string, files: string[]): string {
  for (const dir of [dataDir, join(dataDir, subdir)]) {
    if (files.every((file) => existsSync(join(dir, file)))) return dir;
  }
  const missing = files.filter((file) => !existsSync(join(dataDir, file)));
  throw new DataNotFoundError(
    `${title}: ${dataDir} (and ${join(dataDir, subdir)}) lack ${missing.join(', ')}. Download ` +
      `the "binary version" from https://www.cs.toronto.edu/~kriz/cifar.html, extract it, and ` +
      'pass the extracted folder as { dataDir } (--data-dir).',
  );
}

function checkDataDir(title: string, options: CifarOptions | undefined): string {
  if (typeof options?.dataDir !== 'string' || options.dataDir === '') {
    throw new Error(
      `${title}: option 'dataDir' is required: the folder of the extracted "binary version" ` +
        'from https://www.cs.toronto.edu/~kriz/cifar.html.',
    );
  }
  return options.dataDir;
}

async function loadRecords(
  files: string[],
  labelBytes: { name: string; classes: number }[],
): Promise<CifarRecords> {
  const parts = await Promise.all(
    files.map(async (file) => parseCifarRecords(await readDataFile(file), file, labelBytes)),
  );
  return concatRecords(parts);
}

const CIFAR10_LABEL = [{ name: 'class', classes: 10 }];

/** CIFAR-10 train (data_batch_1..5.bin, 50,000 images) and test (test_batch.bin, 10,000). */
export async function loadCifar10(options: CifarOptions): Promise<TrainTestDatasets> {
  const title = 'CIFAR-10';
  const files = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  const dir = resolveCifarDir(title, checkDataDir(title, options), 'cifar-10-batches-bin', files);
  const [train, test] = await Promise.all([
    loadRecords(
      CIFAR10_TRAIN_FILES.map((file) => join(dir, file)),
      CIFAR10_LABEL,
    ),
    loadRecords([join(dir, CIFAR10_TEST_FILE)], CIFAR10_LABEL),
  ]);
  const toDataset = ({ images, labels, count }: CifarRecords): ImageDataset => ({
    images,
    labels: labels[0] as Uint8Array,
    shape: [SIDE, SIDE, CHANNELS],
    count,
    classes: 10,
    classNames: CIFAR10_CLASS_NAMES,
  });
  return { train: toDataset(train), test: toDataset(test) };
}

export interface Cifar100Dataset extends ImageDataset {
  /** The 100 fine labels, whichever set `labels` holds. */
  fineLabels: Uint8Array;
  /** The 20 superclass labels, whichever set `labels` holds. */
  coarseLabels: Uint8Array;
}

export interface Cifar100Options extends CifarOptions {
  /** Which label set fills `labels` (and `classes`): 'fine' (100, default) or 'coarse' (20). */
  labelMode?: 'fine' | 'coarse';
}

const CIFAR100_LABELS = [
  { name: 'coarse', classes: 20 },
  { name: 'fine', classes: 100 },
];

async function readLabelNames(file: string, expected: number): Promise<string[] | undefined> {
  if (!existsSync(file)) return undefined;
  const names = (await readFile(file, 'utf8')).split(/\r?\n/).filter((line) => line.trim() !== '');
  return names.length === expected ? names : undefined;
}

/** CIFAR-100 train (train.bin, 50,000 images) and test (test.bin, 10,000), coarse + fine labels. */
export async function loadCifar100(
  options: Cifar100Options,
): Promise<{ train: Cifar100Dataset; test: Cifar100Dataset }> {
  const title = 'CIFAR-100';
  const labelMode = options?.labelMode ?? 'fine';
  if (labelMode !== 'fine' && labelMode !== 'coarse') {
    throw new Error(
      `${title}: option 'labelMode' is '${String(labelMode)}'; expected 'fine' or 'coarse'.`,
    );
  }
  const files = [CIFAR100_TRAIN_FILE, CIFAR100_TEST_FILE];
  const dir = resolveCifarDir(title, checkDataDir(title, options), 'cifar-100-binary', files);
  const [train, test, fineNames, coarseNames] = await Promise.all([
    loadRecords([join(dir, CIFAR100_TRAIN_FILE)], CIFAR100_LABELS),
    loadRecords([join(dir, CIFAR100_TEST_FILE)], CIFAR100_LABELS),
    readLabelNames(join(dir, 'fine_label_names.txt'), 100),
    readLabelNames(join(dir, 'coarse_label_names.txt'), 20),
  ]);
  const toDataset = ({ images, labels, count }: CifarRecords): Cifar100Dataset => {
    const [coarseLabels, fineLabels] = labels as [Uint8Array, Uint8Array];
    const fine = labelMode === 'fine';
    const classNames = fine ? fineNames : coarseNames;
    return {
      images,
      labels: fine ? fineLabels : coarseLabels,
      shape: [SIDE, SIDE, CHANNELS],
      count,
      classes: fine ? 100 : 20,
      ...(classNames ? { classNames } : {}),
      fineLabels,
      coarseLabels,
    };
  };
  return { train: toDataset(train), test: toDataset(test) };
}
