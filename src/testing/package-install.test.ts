/**
 * The packages as users get them: both are built and packed (`npm pack`, scripts/build.ts), then
 * installed from the tarballs into fresh projects next to TensorFlow.js from the npm registry
 * (the npm cache once `npm ci` has run):
 *
 *   core    tfjs-sam + tfjs-core + tfjs-layers + the cpu and wasm backends
 *   union   tfjs-sam + the @tensorflow/tfjs package
 *   cli     tfjs-sam + tfjs-sam-cli
 *
 * In the first two, a CommonJS program (`require`) and an ES module (`import`, plus `require` in
 * the same process) train with SAM, save and load it, and check that both give the same classes,
 * registered with tf.serialization once; TypeScript checks a .cts and a .mts consumer. The
 * installed library brings no package of its own. In the third, the installed `tfjs-sam` command
 * trains on the bundled data and writes its report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stagePackages } from '../../scripts/build.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'src', 'testing', 'package-install');
const TFJS = '4.22.0';

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
  assert.equal(
    result.status,
    0,
    `\`${command} ${args.join(' ')}\` failed in ${cwd}:\n${result.stdout}\n${result.stderr}`,
  );
  return `${result.stdout}${result.stderr}`;
}

/** `npm pack` of a staged package folder; returns the tarball's path. */
function pack(dir: string, destination: string): string {
  const [packed] = JSON.parse(
    run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], dir),
  ) as [{ filename: string }];
  return join(destination, packed.filename);
}

/** A fresh project with these dependencies, installed. */
function project(dir: string, dependencies: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'fresh-app', version: '1.0.0', private: true, dependencies }, null, 2),
  );
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--ignore-scripts',
      '--loglevel=error',
    ],
    dir,
  );
  return dir;
}

const stage = mkdtempSync(join(tmpdir(), 'tfjs-sam-install-'));
const packed = (async () => {
  const staged = await stagePackages(join(stage, 'staged'));
  return { library: pack(staged.library, stage), cli: pack(staged.cli, stage) };
})();

test.after(() => rmSync(stage, { recursive: true, force: true }));

/** What the installed library brought: its own dependencies, and packages only the CLI needs. */
function libraryExtras(dir: string): string[] {
  const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dependencies?: Record<string, string> }>;
  };
  const own = Object.keys(lock.packages['node_modules/tfjs-sam']?.dependencies ?? {});
  const cliOnly = ['commander', 'cli-progress', 'vega', 'vega-lite', '@resvg/resvg-js'].filter(
    (name) => existsSync(join(dir, 'node_modules', name)),
  );
  return [...own, ...cliOnly];
}

function typeCheck(dir: string): void {
  cpSync(join(fixtures, 'types.cts'), join(dir, 'types.cts'));
  cpSync(join(fixtures, 'types.mts'), join(dir, 'types.mts'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        verbatimModuleSyntax: true,
        types: [],
      },
      files: ['types.cts', 'types.mts'],
    }),
  );
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], dir);
}

for (const flavor of ['core', 'union'] as const) {
  test(`CommonJS and ES modules, with ${flavor === 'core' ? 'tfjs-core + tfjs-layers' : 'the @tensorflow/tfjs package'}: one class per name, SAM trains, saves and loads`, async () => {
    const { library } = await packed;
    const dir = project(
      join(stage, flavor),
      flavor === 'core'
        ? {
            'tfjs-sam': `file:${library}`,
            '@tensorflow/tfjs-core': TFJS,
            '@tensorflow/tfjs-layers': TFJS,
            '@tensorflow/tfjs-backend-cpu': TFJS,
            '@tensorflow/tfjs-backend-wasm': TFJS,
          }
        : { 'tfjs-sam': `file:${library}`, '@tensorflow/tfjs': TFJS },
    );
    assert.deepEqual(libraryExtras(dir), [], 'packages the library brought into the project');
    for (const script of ['identity.cjs', 'identity.mjs']) {
      cpSync(join(fixtures, script), join(dir, script));
      assert.match(run(process.execPath, [script], dir, { TFJS: flavor }), /^ok: /m, script);
    }
    typeCheck(dir);
  });
}

test('the tfjs-sam-cli package: its tfjs-sam command trains on the bundled data and writes a report', async () => {
  const { library, cli } = await packed;
  const dir = project(join(stage, 'cli'), {
    'tfjs-sam': `file:${library}`,
    'tfjs-sam-cli': `file:${cli}`,
  });
  const bin = join(dir, 'node_modules', '.bin', 'tfjs-sam');
  const printed = run(
    bin,
    [
      ...['compare', '--optimizers', 'sgd,sam', '--model', 'mlp', '--epochs', '1'],
      ...['--train-subset', '100', '--batch-size', '50', '--no-progress', '--out', 'out'],
    ],
    dir,
  );
  assert.match(printed, /sam\s+1\s+2\.00/, 'the summary lists SAM');
  assert.ok(existsSync(join(dir, 'out', 'report.html')), 'report.html written');
  assert.ok(existsSync(join(dir, 'out', 'plots', 'step-time.png')), 'PNG plots rendered');
});
