import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataNotFoundError } from './errors.js';
import { loadFashionMnist } from './mnist.js';
import type { TrainTestDatasets } from './types.js';

export const BUNDLED_FASHION_MNIST_SUBDIR = join('data', 'fashion-mnist-mini');

/**
 * The package root: the nearest folder above `startDir` holding a package.json. Works the same
 * from `src/data/` (tsx) and from `dist/data/` (compiled).
 */
export function findPackageRoot(startDir: string): string | undefined {
  let dir = startDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * The folder of the bundled Fashion-MNIST subset, found relative to this module: in the nearest
 * package root above it that holds one, passing over a package.json without a name (the
 * CommonJS build's dist/cjs/package.json only sets the module type).
 */
export function bundledFashionMnistDir(moduleUrl: string = import.meta.url): string {
  const moduleDir = dirname(fileURLToPath(moduleUrl));
  const roots: string[] = [];
  for (let root = findPackageRoot(moduleDir); root !== undefined;) {
    roots.push(root);
    const dir = join(root, BUNDLED_FASHION_MNIST_SUBDIR);
    if (existsSync(dir)) return dir;
    const parent = dirname(root);
    if (parent === root || hasName(join(root, 'package.json'))) break;
    root = findPackageRoot(parent);
  }
  throw new DataNotFoundError(
    `bundled Fashion-MNIST subset not found: looked for ${BUNDLED_FASHION_MNIST_SUBDIR} in the ` +
      `package root above ${moduleDir} (${roots.length > 0 ? roots.join(', ') : 'no package.json found'}). Reinstall the ` +
      'package, or regenerate it with `npx tsx scripts/make-bundled-data.ts`.',
  );
}

function hasName(manifest: string): boolean {
  try {
    return (
      typeof (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'string'
    );
  } catch {
    return false;
  }
}

/**
 * The small class-balanced Fashion-MNIST subset shipped with the package (2,000 train + 500 test,
 * see data/fashion-mnist-mini/README.md): needs no download and no set-up.
 */
export function loadBundledFashionMnist(): Promise<TrainTestDatasets> {
  return loadFashionMnist({ dataDir: bundledFashionMnistDir() });
}
