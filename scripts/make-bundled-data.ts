/**
 * Builds data/fashion-mnist-mini/: a class-balanced, seeded subset of Fashion-MNIST taken from
 * Debian's dataset-fashion-mnist package (apt-get install dataset-fashion-mnist), written as
 * gzipped IDX files with a README recording source, license, composition and checksums.
 *
 *   npx tsx scripts/make-bundled-data.ts [--source-dir DIR] [--seed 2017] \
 *     [--train-per-class 200] [--test-per-class 50]
 *
 * The output is byte-for-byte reproducible from the same source files and options.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  bundledFashionMnistDir,
  BUNDLED_FASHION_MNIST_SUBDIR,
  findPackageRoot,
} from '../src/data/bundled.js';
import { subsetDataset } from '../src/data/dataset.js';
import { encodeIdx } from '../src/data/idx.js';
import {
  findIdxDataDir,
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_SEARCH_DIRS,
  loadFashionMnist,
  locateIdxFiles,
  IDX_FILE_STEMS,
} from '../src/data/mnist.js';
import { classBalancedIndices } from '../src/data/split.js';
import type { ImageDataset } from '../src/data/types.js';

const { values } = parseArgs({
  options: {
    'source-dir': { type: 'string' },
    seed: { type: 'string', default: '2017' },
    'train-per-class': { type: 'string', default: '200' },
    'test-per-class': { type: 'string', default: '50' },
  },
});

function integerOption(name: string, text: string | undefined): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`--${name} is '${text}'; expected a non-negative integer.`);
  }
  return value;
}

const seed = integerOption('seed', values.seed);
const trainPerClass = integerOption('train-per-class', values['train-per-class']);
const testPerClass = integerOption('test-per-class', values['test-per-class']);
const sourceDir = values['source-dir'] ?? findIdxDataDir(FASHION_MNIST_SEARCH_DIRS);
if (sourceDir === undefined) {
  throw new Error(
    `Fashion-MNIST not found in ${FASHION_MNIST_SEARCH_DIRS.join(', ')}: run ` +
      '`apt-get install dataset-fashion-mnist` or pass --source-dir.',
  );
}

const scriptDir = dirname(fileURLToPath(import.meta.url));
const root = findPackageRoot(scriptDir);
if (root === undefined) throw new Error(`no package.json above ${scriptDir}`);
const outDir = join(root, BUNDLED_FASHION_MNIST_SUBDIR);
mkdirSync(outDir, { recursive: true });

const source = await loadFashionMnist({ dataDir: sourceDir });
const sourceFiles = locateIdxFiles(sourceDir);
if (!('files' in sourceFiles)) throw new Error(`unreachable: ${sourceDir} lost its files`);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const written: { name: string; bytes: number; sha256: string }[] = [];
function writeGzippedIdx(stem: string, dims: number[], data: Uint8Array): void {
  const compressed = gzipSync(encodeIdx(dims, data), { level: 9 });
  const name = `${stem}.gz`;
  writeFileSync(join(outDir, name), compressed);
  written.push({ name, bytes: compressed.length, sha256: sha256(compressed) });
}

function pick(
  dataset: ImageDataset,
  perClass: number,
  splitSeed: number,
): { dataset: ImageDataset; indices: Int32Array } {
  const indices = classBalancedIndices(dataset.labels, dataset.classes, perClass, splitSeed);
  return { dataset: subsetDataset(dataset, indices), indices };
}

const subsets: Record<'train' | 'test', { dataset: ImageDataset; indices: Int32Array }> = {
  train: pick(source.train, trainPerClass, seed),
  test: pick(source.test, testPerClass, seed + 1),
};

for (const split of ['train', 'test'] as const) {
  const { dataset } = subsets[split];
  const images = dataset.images as Uint8Array;
  const labels = dataset.labels as Uint8Array;
  const stems =
    split === 'train'
      ? [IDX_FILE_STEMS.trainImages, IDX_FILE_STEMS.trainLabels]
      : [IDX_FILE_STEMS.testImages, IDX_FILE_STEMS.testLabels];
  writeGzippedIdx(stems[0] as string, [dataset.count, 28, 28], images);
  writeGzippedIdx(stems[1] as string, [dataset.count], labels);
}

writeFileSync(
  join(outDir, 'source-indices.json'),
  `${JSON.stringify({
    seed,
    train: Array.from(subsets.train.indices),
    test: Array.from(subsets.test.indices),
  })}\n`,
);

const command = [
  'npx tsx scripts/make-bundled-data.ts',
  ...(values['source-dir'] === undefined ? [] : [`--source-dir ${sourceDir}`]),
  `--seed ${seed} --train-per-class ${trainPerClass} --test-per-class ${testPerClass}`,
].join(' ');
const totalBytes = written.reduce((sum, file) => sum + file.bytes, 0);
/** A markdown table padded the way prettier formats one, so the README is already formatted. */
function markdownTable(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

function debianPackageVersion(): string | undefined {
  const result = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'dataset-fashion-mnist'], {
    encoding: 'utf8',
  });
  return result.status === 0 && result.stdout ? result.stdout.trim() : undefined;
}

const packageVersion = debianPackageVersion();
const count = (value: number) => value.toLocaleString('en-US');
const readme = `# Fashion-MNIST mini

A small class-balanced subset of [Fashion-MNIST](https://github.com/zalandoresearch/fashion-mnist), bundled so that examples and tests run on a fresh machine with no download: ${count(subsets.train.dataset.count)} training images (${trainPerClass} per class) and ${count(subsets.test.dataset.count)} test images (${testPerClass} per class), 28×28 grayscale, 10 classes (${FASHION_MNIST_CLASS_NAMES.join(', ')}).

The files keep the original IDX format and file names, gzipped, so any MNIST reader loads them. In this package: \`loadBundledFashionMnist()\` from \`src/data\`.

## Source

Debian's \`dataset-fashion-mnist\` package${packageVersion ? ` (version ${packageVersion})` : ''}, installed with \`apt-get install dataset-fashion-mnist\`, which ships the original release files:

${markdownTable(
  ['source file', 'sha256'],
  Object.values(sourceFiles.files).map((file) => [`\`${file}\``, sha256(readFileSync(file))]),
)}

Training images come from the ${count(source.train.count)} training images and test images from the ${count(source.test.count)} test images, so the two parts stay disjoint. For each class, ${trainPerClass} (train) and ${testPerClass} (test) indices were drawn uniformly without replacement with the project's mulberry32 PRNG (\`classBalancedIndices\`, seed ${seed} for train, ${seed + 1} for test); the chosen samples keep their original relative order. \`source-indices.json\` lists the original index of every sample.

## License

Fashion-MNIST is © 2017 Zalando SE, released under the MIT License (Debian calls it "Expat"). This subset is distributed under the same license:

> Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files (the "Software"), to deal in the Software without restriction, including without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the following conditions:
>
> The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.
>
> THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

## How it was made

From the repository root, with the Debian package installed:

\`\`\`sh
${command}
\`\`\`

The output is reproducible byte for byte from the same source files. Files (${count(totalBytes)} bytes of gzipped IDX in total):

${markdownTable(
  ['file', 'bytes', 'sha256'],
  written.map((file) => [`\`${file.name}\``, String(file.bytes), file.sha256]),
)}
`;
writeFileSync(join(outDir, 'README.md'), readme);

// Read back through the public loader: the same check a user's first run makes.
const check = await loadFashionMnist({ dataDir: bundledFashionMnistDir() });
console.log(
  `wrote ${outDir}: train ${check.train.count}, test ${check.test.count}, ${totalBytes} bytes gzipped`,
);
