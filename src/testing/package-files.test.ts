/**
 * What `npm pack` would publish: the compiled library and the bundled data, never test code.
 *
 * The library is built (scripts/build.ts: ES modules, CommonJS, the Node wrappers) into a fresh
 * temporary folder (next to a copy of package.json, the README and the bundled data), and
 * `npm pack --dry-run --json` runs there: the answer never depends on a stale dist/, and the
 * repository's own dist/ is left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLibrary } from '../../scripts/build.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** An exports target: a path, or conditions (`require`, `types`, `node`, `import`, …) to targets. */
type Target = string | { [condition: string]: Target };

interface Manifest {
  main?: string;
  types?: string;
  bin?: Record<string, string>;
  exports: Record<string, Target>;
}

/** Every path of an exports target, with its conditions: `[".require.types", "./dist/…"]`. */
function targetPaths(target: Target, conditions = ''): Array<[string, string]> {
  if (typeof target === 'string') return [[conditions, target]];
  return Object.entries(target).flatMap(([condition, inner]) =>
    targetPaths(inner, `${conditions}.${condition}`),
  );
}

/** Packed paths that are test code: dist/testing/, compiled tests, test or parity helpers. */
export function testFilesIn(paths: readonly string[]): string[] {
  return paths.filter(
    (path) =>
      path.startsWith('dist/testing/') ||
      /\.test\.(js|d\.ts|js\.map|d\.ts\.map)$/.test(path) ||
      /test-helpers|parity-helpers/.test(path),
  );
}

/** Every file package.json points to (exports, main, types, bin) that is not among `paths`. */
export function missingEntryPoints(manifest: Manifest, paths: readonly string[]): string[] {
  const packed = new Set(paths);
  const targets = [
    ...Object.entries(manifest.exports).flatMap(([subpath, entry]) =>
      targetPaths(entry).map(([conditions, file]) => [`exports['${subpath}']${conditions}`, file]),
    ),
    ...(manifest.main ? [['main', manifest.main]] : []),
    ...(manifest.types ? [['types', manifest.types]] : []),
    ...Object.entries(manifest.bin ?? {}).map(([name, file]) => [`bin.${name}`, file]),
  ] as [string, string][];
  return targets
    .filter(([, file]) => !packed.has(file.replace(/^\.\//, '')))
    .map(([field, file]) => `${field} → ${file}`);
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(
    result.status,
    0,
    `\`${command} ${args.join(' ')}\` failed in ${cwd}:\n${result.stdout}\n${result.stderr}`,
  );
  return result.stdout;
}

test('the checks flag test files and entry points that are not packed', () => {
  assert.deepEqual(
    testFilesIn([
      'dist/index.js',
      'dist/testing/backends.js',
      'dist/core/sam.test.js',
      'dist/core/sam.test.d.ts',
      'dist/models/test-helpers.js',
      'dist/backend/wasm-kernels/parity-helpers.d.ts',
      'dist/data/batches.js',
    ]),
    [
      'dist/testing/backends.js',
      'dist/core/sam.test.js',
      'dist/core/sam.test.d.ts',
      'dist/models/test-helpers.js',
      'dist/backend/wasm-kernels/parity-helpers.d.ts',
    ],
  );
  const manifest: Manifest = {
    exports: { './data': { types: './dist/data/index.d.ts', import: './dist/data/index.js' } },
    bin: { cli: 'dist/cli/main.js' },
  };
  assert.deepEqual(missingEntryPoints(manifest, ['dist/data/index.js']), [
    "exports['./data'].types → ./dist/data/index.d.ts",
    'bin.cli → dist/cli/main.js',
  ]);
});

test('npm pack ships the built library without test code, and every entry point', async () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-pack-'));
  try {
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    cpSync(join(root, 'README.md'), join(dir, 'README.md'));
    cpSync(join(root, 'data'), join(dir, 'data'), { recursive: true });
    await buildLibrary(join(dir, 'dist'));
    const [pack] = JSON.parse(
      run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], dir),
    ) as [{ files: { path: string }[] }];
    const paths = pack.files.map((file) => file.path);
    assert.ok(
      paths.filter((path) => path.startsWith('dist/')).length > 50,
      `expected the compiled library in the package, got ${paths.length} files`,
    );
    assert.deepEqual(testFilesIn(paths), [], 'test code in the package');
    assert.deepEqual(missingEntryPoints(manifest, paths), [], 'entry points not in the package');
    const nodeTestImports = paths
      .filter((path) => path.endsWith('.js'))
      .filter((path) =>
        /from '(node:)?(assert|test)(\/strict)?'/.test(readFileSync(join(dir, path), 'utf8')),
      );
    assert.deepEqual(nodeTestImports, [], 'packed modules that import node:assert or node:test');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
