/**
 * The library (package tfjs-sam) installs nothing of its own: no runtime dependency, only peers
 * (TensorFlow.js), so an application or a browser bundle that imports it gets no CLI, plotting or
 * rendering package. The CLI and its reports are the workspace package tfjs-sam-cli (cli/).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Manifest {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function read(path: string): Manifest {
  return JSON.parse(readFileSync(join(root, path), 'utf8')) as Manifest;
}

/** The shipped modules under `dir` (no tests, no src/testing). */
function shippedModules(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'testing' ? [] : shippedModules(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** The packages a module names in static imports, re-exports and literal dynamic imports. */
export function importedPackages(source: string): string[] {
  const specifiers = [
    ...source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+'([^']+)'/gm),
    ...source.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((match) => match[1] as string);
  const builtins = new Set(builtinModules);
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:') && !builtins.has(packageOf(s)))
    .map(packageOf);
}

test('the import scan finds static, re-exported, side-effect and dynamic package imports', () => {
  const source = [
    "import * as tf from '@tensorflow/tfjs-core';",
    "import type { Command } from 'commander';",
    "export { compile } from 'vega-lite/build/index.js';",
    "import 'cli-progress';",
    "const wasm = await import('@tensorflow/tfjs-backend-wasm');",
    "import { join } from 'node:path';",
    "import { readFileSync } from 'fs';",
    "import { sam } from './core/sam.js';",
  ].join('\n');
  assert.deepEqual(importedPackages(source).sort(), [
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-core',
    'cli-progress',
    'commander',
    'vega-lite',
  ]);
});

test('the library has no runtime dependency: every package it imports is a peer', () => {
  const manifest = read('package.json');
  assert.deepEqual(
    Object.keys(manifest.dependencies ?? {}),
    [],
    'package.json dependencies of the library (install them in the CLI workspace, cli/package.json)',
  );
  const peers = new Set(Object.keys(manifest.peerDependencies ?? {}));
  const strays = shippedModules(join(root, 'src')).flatMap((file) =>
    importedPackages(readFileSync(file, 'utf8'))
      .filter((name) => !peers.has(name))
      .map((name) => `${file.slice(root.length + 1)} imports ${name}`),
  );
  assert.deepEqual(strays, [], 'library modules importing a package that is not a peer');
});

test('only TensorFlow.js itself is a required peer; backends and tfjs-node are optional', () => {
  const manifest = read('package.json');
  const required = Object.keys(manifest.peerDependencies ?? {}).filter(
    (name) => manifest.peerDependenciesMeta?.[name]?.optional !== true,
  );
  assert.deepEqual(required.sort(), ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']);
});

test('the CLI workspace carries the CLI, plotting and rendering packages', () => {
  const cli = read('cli/package.json');
  for (const name of ['commander', 'cli-progress', 'vega', 'vega-lite', '@resvg/resvg-js']) {
    assert.ok(cli.dependencies?.[name] !== undefined, `cli/package.json depends on ${name}`);
  }
  assert.ok(cli.peerDependencies?.['tfjs-sam'] !== undefined, 'the CLI uses the library as a peer');
});
