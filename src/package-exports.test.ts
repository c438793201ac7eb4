import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, { types: string; import: string }>;
};

/** `./dist/diagnostics/index.js` is built from `src/diagnostics/index.ts`. */
function sourceOf(distPath: string): string {
  return join(root, distPath.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
}

test('every subpath export is built from a source module that loads', async () => {
  const expected: Record<string, string> = {
    '.': 'sam',
    './data': 'addSymmetricLabelNoise',
    './diagnostics': 'hessianEigenvalues',
    './models': 'buildModel',
    './trainer': 'train',
    './parallel': 'createDataParallel',
  };
  for (const [subpath, symbol] of Object.entries(expected)) {
    const entry = manifest.exports[subpath];
    assert.ok(entry, `package.json exports ${subpath}`);
    assert.equal(entry.types, entry.import.replace(/\.js$/, '.d.ts'), `${subpath} types`);
    const source = sourceOf(entry.import);
    assert.ok(existsSync(source), `${subpath} → ${source}`);
    const module = (await import(pathToFileURL(source).href)) as Record<string, unknown>;
    assert.equal(typeof module[symbol], 'function', `${subpath} exports ${symbol}`);
  }
});

test('the main entry stays browser-safe: nothing under it imports a node: module', () => {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/^(?:import|export)[^'"]*from '([^']+)'/gm)) {
      assert.ok(
        !specifier!.startsWith('node:'),
        `${file} imports ${specifier} (reached from src/index.ts)`,
      );
      if (specifier!.startsWith('.'))
        visit(join(dirname(file), specifier!.replace(/\.js$/, '.ts')));
    }
  };
  visit(sourceOf(manifest.exports['.']!.import));
  assert.ok(seen.size > 10, `followed the imports of ${seen.size} modules`);
});

test('the main entry offers what the README tells users to import from it', async () => {
  const main = (await import(
    pathToFileURL(sourceOf(manifest.exports['.']!.import)).href
  )) as Record<string, unknown>;
  for (const name of [
    'sam',
    'asam',
    'adamw',
    'gsam',
    'xsam',
    'selectBackend',
    'useFastestBackend',
    'registerWasmTrainingKernels',
    'cosineSchedule',
    'learningRateScheduler',
  ]) {
    assert.equal(typeof main[name], 'function', `tfjs-sam exports ${name}`);
  }
});
