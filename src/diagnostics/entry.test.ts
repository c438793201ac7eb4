/**
 * `tfjs-sam/diagnostics` computes; it never loads the plotting stack (vega, vega-lite, the native
 * PNG renderer @resvg/resvg-js) nor the report layer. Each import runs in a child process whose
 * module-resolution hook refuses those modules, so a forbidden import anywhere in the graph fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const HOOKS = `
const denied = /(^|\\/)(vega|vega-lite|@resvg\\/resvg-js)(\\/|$)/;
let denyReport = true;
export function initialize(data) {
  denyReport = data.denyReport;
}
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (denied.test(specifier) || (denyReport && /\\/src\\/report\\//.test(result.url))) {
    throw new Error('DENIED ' + specifier + ' imported by ' + context.parentURL);
  }
  return result;
}
`;

/**
 * Imports `module` (a path under the repository) in a child process where vega, vega-lite, resvg
 * and (with `denyReport`) any module under cli/src/report fail to resolve; returns exit and output.
 */
function importWithDenyHook(
  module: string,
  denyReport: boolean,
): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-sam-deny-'));
  try {
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS);
    writeFileSync(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url, { data: { denyReport: ${denyReport} } });\n`,
    );
    const url = pathToFileURL(join(root, module)).href;
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--import',
        pathToFileURL(join(dir, 'register.mjs')).href,
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(url)}); console.log('EXPORTS', Object.keys(m).length);`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('importing the diagnostics entry loads neither vega, vega-lite, resvg nor the report layer', () => {
  const { status, output } = importWithDenyHook('src/diagnostics/index.ts', true);
  assert.equal(status, 0, `src/diagnostics/index.ts reached a denied module:\n${output}`);
  assert.match(output, /EXPORTS [1-9]\d*/);
});

test('the hook does refuse them: the report layer fails to import under it', () => {
  const { status, output } = importWithDenyHook('cli/src/report/landscape.ts', false);
  assert.notEqual(status, 0);
  assert.match(
    output,
    /DENIED (vega|@resvg\/resvg-js) imported by file:.*\/src\/report\/render\.ts/,
  );
});
