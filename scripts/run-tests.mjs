// Runs every `*.test.ts` under src/ (the library) and cli/src/ (the CLI workspace) — tests live
// beside the code — with Node's own test runner, TypeScript loaded through tsx. Extra arguments
// narrow the run: `npm test -- src/core`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['src', 'cli/src']).flatMap((root) =>
  root.endsWith('.ts') ? [root] : collect(root, []),
);
if (files.length === 0) {
  console.error(`no *.test.ts files under ${roots.join(', ') || 'src, cli/src'}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', ...files.sort()],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
