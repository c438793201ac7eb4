/**
 * Runs a benchmark as compiled JavaScript under plain node, the way the library runs for its users.
 * tsx, which runs the TypeScript sources everywhere else here, turns on Node's source-map support in
 * every thread it loads, and with it each training step is slower: the MLP's two-core SGD step
 * 41.7–42.2 ms under tsx against 39.5–39.7 compiled, the single-thread step 58.9–60.9 against
 * 57.7–58.4 (`bench:parallel`, alternated, 2026-12-03).
 *
 *   tsx scripts/run-compiled.ts bench/parallel.ts [its arguments…]
 *
 * Transpiles src/ and bench/ file by file with esbuild (no type check: `npm run typecheck` does
 * that) into runs/compiled/, keeping the layout, so that relative imports, the data-parallel
 * worker's URL and the PyTorch peer's script resolve as in the sources; then runs the entry with
 * the same node, from the repository's root, and exits with its status.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'runs', 'compiled');
const [entry, ...args] = process.argv.slice(2);
if (entry === undefined || !/^bench\/[\w/-]+\.ts$/.test(entry)) {
  console.error(
    `run-compiled: expected a benchmark under bench/ (bench/<name>.ts) and its arguments; got ${entry ?? 'nothing'}.`,
  );
  process.exit(2);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const isSource = (path: string) => path.endsWith('.ts') && !path.endsWith('.test.ts');
const sources = ['src', 'bench'].flatMap((dir) => filesUnder(join(root, dir))).filter(isSource);
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: sources,
  outdir: out,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  bundle: false,
  logLevel: 'warning',
});
for (const file of filesUnder(join(root, 'bench', 'peer')).filter((f) => !f.endsWith('.ts'))) {
  cpSync(file, join(out, relative(root, file)));
}

const compiledEntry = join(out, entry.replace(/\.ts$/, '.js'));
const run = spawnSync(process.execPath, [compiledEntry, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TFJS_SAM_COMPILED_FROM: entry },
});
process.exit(run.status ?? 1);
