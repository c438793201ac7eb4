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
 *
 * The browser cost: Vite builds a small app on tfjs-core + tfjs-layers + the webgl backend twice,
 * once with tfjs-sam's `sam` as its optimizer, and the difference in the minified bundle is
 * tfjs-sam's share, kept under BUNDLE_BUDGET.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stagePackages } from '../../scripts/build.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixtures = join(root, 'src', 'testing', 'package-install');
const TFJS = '4.22.0';

/** What `import { sam } from 'tfjs-sam'` may add to a browser app's minified bundle (bytes). */
export const BUNDLE_BUDGET = { minified: 64_000, gzip: 20_000 };

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

const installed = new Map<'core' | 'union', Promise<string>>();

/** The fresh project of a flavour, installed once. */
function flavorProject(flavor: 'core' | 'union'): Promise<string> {
  let dir = installed.get(flavor);
  if (dir === undefined) {
    dir = packed.then(({ library }) =>
      project(
        join(stage, flavor),
        flavor === 'core'
          ? {
              'tfjs-sam': `file:${library}`,
              '@tensorflow/tfjs-core': TFJS,
              '@tensorflow/tfjs-layers': TFJS,
              '@tensorflow/tfjs-backend-cpu': TFJS,
              '@tensorflow/tfjs-backend-wasm': TFJS,
              '@tensorflow/tfjs-backend-webgl': TFJS,
            }
          : {
              'tfjs-sam': `file:${library}`,
              '@tensorflow/tfjs': TFJS,
              '@tensorflow/tfjs-backend-wasm': TFJS,
            },
      ),
    );
    installed.set(flavor, dir);
  }
  return dir;
}

for (const flavor of ['core', 'union'] as const) {
  test(`CommonJS and ES modules, with ${flavor === 'core' ? 'tfjs-core + tfjs-layers' : 'the @tensorflow/tfjs package'}: one class per name, SAM trains, saves and loads`, async () => {
    const dir = await flavorProject(flavor);
    assert.deepEqual(libraryExtras(dir), [], 'packages the library brought into the project');
    for (const script of ['identity.cjs', 'identity.mjs']) {
      cpSync(join(fixtures, script), join(dir, script));
      assert.match(run(process.execPath, [script], dir, { TFJS: flavor }), /^ok: /m, script);
    }
    typeCheck(dir);
  });
}

/** examples/, each run where a user would run it: the project with its TensorFlow.js flavour. */
const EXAMPLES: Array<[string, 'core' | 'union', RegExp]> = [
  ['commonjs.cjs', 'union', /saved to .* and loaded back with its SAM optimizer/],
  ['fit-dataset.mjs', 'union', /fitDataset with SAM: training accuracy/],
  ['esm.mjs', 'core', /trained 4 epochs with SAM/],
  ['custom-loop.mjs', 'core', /custom loop: loss .* after 51 SAM steps/],
  ['save-load.mjs', 'core', /resumed training matches the uninterrupted run bit for bit/],
];

for (const [example, flavor, expected] of EXAMPLES) {
  test(`examples/${example} runs against the installed package (${flavor === 'core' ? 'tfjs-core + tfjs-layers' : '@tensorflow/tfjs'})`, async () => {
    const dir = await flavorProject(flavor);
    cpSync(join(root, 'examples', example), join(dir, example));
    assert.match(run(process.execPath, [example], dir), expected);
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

/** A browser app: a model compiled with `optimizer`, trained on the webgl backend. */
function browserApp(withSam: boolean): string {
  return [
    "import * as tf from '@tensorflow/tfjs-core';",
    "import * as tfl from '@tensorflow/tfjs-layers';",
    "import '@tensorflow/tfjs-backend-webgl';",
    ...(withSam ? ["import { sam } from 'tfjs-sam';"] : []),
    'export async function run(xs, ys) {',
    "  await tf.setBackend('webgl');",
    '  const model = tfl.sequential({',
    "    layers: [tfl.layers.dense({ units: 10, inputShape: [784], activation: 'softmax' })],",
    '  });',
    `  const optimizer = ${withSam ? 'sam(tf.train.sgd(0.1), { rho: 0.05 })' : 'tf.train.sgd(0.1)'};`,
    "  model.compile({ optimizer, loss: 'categoricalCrossentropy' });",
    '  return model.fit(xs, ys, { epochs: 1 });',
    '}',
    '',
  ].join('\n');
}

/** Minified and gzip bytes of the JavaScript Vite emits for `entry` (every chunk). */
async function viteBundle(dir: string, entry: string): Promise<{ minified: number; gzip: number }> {
  const { build } = await import('vite');
  const outDir = join(dir, `bundle-${entry.replace(/\W/g, '-')}`);
  await build({
    root: dir,
    configFile: false,
    logLevel: 'silent',
    build: {
      outDir,
      emptyOutDir: true,
      chunkSizeWarningLimit: 10_000,
      rollupOptions: { input: join(dir, entry), preserveEntrySignatures: 'exports-only' },
    },
  });
  const chunks = readdirSync(join(outDir, 'assets')).filter((file) => file.endsWith('.js'));
  assert.ok(chunks.length > 0, `vite wrote no JavaScript for ${entry}`);
  let minified = 0;
  let gzip = 0;
  for (const chunk of chunks) {
    const bytes = readFileSync(join(outDir, 'assets', chunk));
    minified += bytes.length;
    gzip += gzipSync(bytes).length;
  }
  return { minified, gzip };
}

test(`a browser app that imports sam from tfjs-sam grows by less than ${BUNDLE_BUDGET.minified / 1000} kB minified, ${BUNDLE_BUDGET.gzip / 1000} kB gzip`, async () => {
  const dir = await flavorProject('core');
  writeFileSync(join(dir, 'app-plain.js'), browserApp(false));
  writeFileSync(join(dir, 'app-sam.js'), browserApp(true));
  const plain = await viteBundle(dir, 'app-plain.js');
  const withSam = await viteBundle(dir, 'app-sam.js');
  const cost = { minified: withSam.minified - plain.minified, gzip: withSam.gzip - plain.gzip };
  console.log(
    `browser bundle: tfjs ${plain.minified} B (${plain.gzip} B gzip); with tfjs-sam's sam ` +
      `${withSam.minified} B (${withSam.gzip} B gzip); tfjs-sam adds ${cost.minified} B ` +
      `(${cost.gzip} B gzip)`,
  );
  assert.ok(cost.minified > 0, 'the app with SAM includes tfjs-sam');
  assert.ok(
    cost.minified <= BUNDLE_BUDGET.minified && cost.gzip <= BUNDLE_BUDGET.gzip,
    `tfjs-sam adds ${cost.minified} B minified (${cost.gzip} B gzip) to a browser bundle; the ` +
      `budget is ${BUNDLE_BUDGET.minified} B (${BUNDLE_BUDGET.gzip} B gzip). Keep Node-only and ` +
      'optional code out of the main entry, or raise the budget in the README and here on purpose.',
  );
});
