import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readDataFile } from './bytes.js';
import { DataNotFoundError } from './errors.js';
import { checkSameCount, parseIdxImages, parseIdxLabels } from './idx.js';
import type { ImageDataset, TrainTestDatasets } from './types.js';
import { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from './class-names.js';

export { FASHION_MNIST_CLASS_NAMES, MNIST_CLASS_NAMES } from './class-names.js';

/** Where Debian's `dataset-fashion-mnist` package installs the four gzipped IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export const FASHION_MNIST_SEARCH_DIRS: readonly string[] = [
  DEBIAN_FASHION_MNIST_DIR,
  '/usr/local/share/datasets/fashion-mnist',
];

/** Debian packages no plain MNIST; these are the same layout, for a hand-made install. */
export const MNIST_SEARCH_DIRS: readonly string[] = [
  '/usr/share/datasets/mnist',
  '/usr/local/share/datasets/mnist',
];

/** The standard file stems; each may also appear with `.gz`, or with a dot before `idx`. */
export const IDX_FILE_STEMS = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;
type IdxFileRole = keyof typeof IDX_FILE_STEMS;

export function idxFileCandidates(stem: string): string[] {
  const dotted = stem.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte');
  return [stem, `${stem}.gz`, dotted, `${dotted}.gz`];
}

/** The path of each standard file in `dir`, or the list of file stems that are absent. */
export function locateIdxFiles(
  dir: string,
): { files: Record<IdxFileRole, string> } | { missing: string[] } {
  const files: Partial<Record<IdxFileRole, string>> = {};
  const missing: string[] = [];
  for (const [role, stem] of Object.entries(IDX_FILE_STEMS) as [IdxFileRole, string][]) {
    const name = idxFileCandidates(stem).find((candidate) => existsSync(join(dir, candidate)));
    if (name === undefined) missing.push(`${stem}[.gz]`);
    else files[role] = join(dir, name);
  }
  return missing.length > 0 ? { missing } : { files: files as Record<IdxFileRole, string> };
}

/** The first of `searchDirs` that holds all four IDX files, or undefined. */
export function findIdxDataDir(searchDirs: readonly string[]): string | undefined {
  return searchDirs.find((dir) => 'files' in locateIdxFiles(dir));
}

export interface IdxDatasetOptions {
  /** Folder holding the four IDX files (raw or gzipped). Auto-detected when omitted. */
  dataDir?: string;
  /** Folders tried, in order, when `dataDir` is omitted. */
  searchDirs?: readonly string[];
}

interface IdxDatasetSpec {
  title: string;
  classNames: readonly string[];
  defaultSearchDirs: readonly string[];
  installHint: string;
}

const FASHION_MNIST: IdxDatasetSpec = {
  title: 'Fashion-MNIST',
  classNames: FASHION_MNIST_CLASS_NAMES,
  defaultSearchDirs: FASHION_MNIST_SEARCH_DIRS,
  installHint:
    'Install it with `apt-get install dataset-fashion-mnist` (Debian/Ubuntu; files land in ' +
    `${DEBIAN_FASHION_MNIST_DIR}) or pass the folder holding the IDX files as { dataDir } ` +
    '(--data-dir on the command line).',
};

const MNIST: IdxDatasetSpec = {
  title: 'MNIST',
  classNames: MNIST_CLASS_NAMES,
  defaultSearchDirs: MNIST_SEARCH_DIRS,
  installHint:
    'Download the four IDX files from http://yann.lecun.com/exdb/mnist/ (or a mirror) and pass ' +
    'their folder as { dataDir } (--data-dir on the command line).',
};

function resolveDataDir(
  spec: IdxDatasetSpec,
  options: IdxDatasetOptions,
): Record<IdxFileRole, string> {
  if (options.dataDir !== undefined) {
    const located = locateIdxFiles(options.dataDir);
    if ('files' in located) return located.files;
    throw new DataNotFoundError(
      `${spec.title}: ${options.dataDir} lacks ${located.missing.join(', ')}. Expected the four ` +
        `standard IDX files (raw or .gz) there. ${spec.installHint}`,
    );
  }
  const searchDirs = options.searchDirs ?? spec.defaultSearchDirs;
  const found = findIdxDataDir(searchDirs);
  if (found !== undefined)
    return (locateIdxFiles(found) as { files: Record<IdxFileRole, string> }).files;
  throw new DataNotFoundError(
    `${spec.title}: no data folder given and none found; looked for the four IDX files in ` +
      `${searchDirs.join(', ') || '(no folders)'}. ${spec.installHint}`,
  );
}

async function loadIdxSplit(
  imagesFile: string,
  labelsFile: string,
  classNames: readonly string[],
): Promise<ImageDataset> {
  const [imageBytes, labelBytes] = await Promise.all([
    readDataFile(imagesFile),
    readDataFile(labelsFile),
  ]);
  const { images, count } = parseIdxImages(imageBytes, imagesFile, { rows: 28, columns: 28 });
  const labels = parseIdxLabels(labelBytes, labelsFile, classNames.length);
  checkSameCount(imagesFile, count, labelsFile, labels.length);
  return { images, labels, shape: [28, 28, 1], count, classes: classNames.length, classNames };
}

async function loadIdxDataset(
  spec: IdxDatasetSpec,
  options: IdxDatasetOptions,
): Promise<TrainTestDatasets> {
  const files = resolveDataDir(spec, options);
  const [train, test] = await Promise.all([
    loadIdxSplit(files.trainImages, files.trainLabels, spec.classNames),
    loadIdxSplit(files.testImages, files.testLabels, spec.classNames),
  ]);
  return { train, test };
}

/** Fashion-MNIST (Xiao et al. 2017) from IDX files; finds Debian's install when no folder is given. */
export function loadFashionMnist(options: IdxDatasetOptions = {}): Promise<TrainTestDatasets> {
  return loadIdxDataset(FASHION_MNIST, options);
}

/** MNIST from IDX files in `dataDir` (same layout and file names as Fashion-MNIST). */
export function loadMnist(options: IdxDatasetOptions = {}): Promise<TrainTestDatasets> {
  return loadIdxDataset(MNIST, options);
}
