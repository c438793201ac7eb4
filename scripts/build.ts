/**
 * npm run build: the library (package tfjs-sam) in the three forms its `exports` map names, and
 * the CLI (package tfjs-sam-cli).
 *
 *   dist/            ES modules and declarations (tsc): what bundlers and browsers import
 *   dist/cjs/        CommonJS (esbuild, one file per module), with a copy of the declarations:
 *                    what `require('tfjs-sam')` loads
 *   dist/node-esm/   for `import 'tfjs-sam'` in Node: a thin ES module per entry point that
 *                    re-exports dist/cjs, so that `require` and `import` in one process share one
 *                    copy of every class and register each with tf.serialization once
 *   cli/dist/        the CLI as ES modules (esbuild; `npm run typecheck` checks its types)
 *
 * Why CommonJS underneath in Node: tfjs-core and tfjs-layers resolve to their CommonJS builds
 * under Node for `import` and `require` alike, and a CommonJS module can be imported by every Node
 * ≥ 20, while `require()` of an ES module needs Node ≥ 20.19.
 *
 *   tsx scripts/build.ts                 builds into dist/ and cli/dist/
 *   tsx scripts/build.ts --stage DIR     builds pack-ready copies of both packages into
 *                                        DIR/tfjs-sam and DIR/tfjs-sam-cli (package.json, README,
 *                                        bundled data, dist), leaving the repository's dist/ alone
 *   npm run pack                         the same into runs/pack/, then `npm pack` of each: the
 *                                        two tarballs to publish (or to install and try)
 */
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, type BuildOptions } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

interface ExportEntry {
  require: { types: string; default: string };
  types: string;
  node: string;
  import: string;
}

interface Manifest {
  name: string;
  exports: Record<string, ExportEntry>;
}

/** Every shipped module under `dir`: .ts files that are not tests, outside testing/. */
export function shippedSources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'testing' ? [] : shippedSources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')
      ? [path]
      : [];
  });
}

function files(dir: string, suffix: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path, suffix);
    return name.endsWith(suffix) ? [path] : [];
  });
}

function run(command: string, args: string[], cwd = root): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    throw new Error(`build: \`${relative(root, command)} ${args.join(' ')}\` failed.`);
  }
}

/**
 * `import.meta` does not exist in CommonJS: its url is this file's URL and its resolve resolves
 * from this file, defined at the top of each module that uses them.
 */
const IMPORT_META_SHIM = [
  'var __importMetaUrl = require("node:url").pathToFileURL(__filename).href;',
  'var __importMetaResolve = (s) => require("node:url").pathToFileURL(require.resolve(s)).href;',
].join('\n');

async function buildCommonJs(dist: string): Promise<void> {
  const out = join(dist, 'cjs');
  const sources = shippedSources(join(root, 'src'));
  const common: BuildOptions = {
    outbase: join(root, 'src'),
    outdir: out,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  };
  const usesMeta = sources.filter((file) => readFileSync(file, 'utf8').includes('import.meta'));
  const plain = sources.filter((file) => !usesMeta.includes(file));
  await build({ ...common, entryPoints: plain });
  if (usesMeta.length > 0) {
    await build({
      ...common,
      entryPoints: usesMeta,
      define: {
        'import.meta.url': '__importMetaUrl',
        'import.meta.resolve': '__importMetaResolve',
      },
      banner: { js: IMPORT_META_SHIM },
    });
  }
  writeFileSync(join(out, 'package.json'), '{\n  "type": "commonjs"\n}\n');
  // The same declarations describe the CommonJS tree (TypeScript reads them as CommonJS there).
  for (const declaration of files(dist, '.d.ts')) {
    if (declaration.startsWith(out + '/')) continue;
    const target = join(out, relative(dist, declaration));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(declaration, target);
  }
}

/**
 * One ES module per entry point in dist/node-esm/, re-exporting the CommonJS entry by name. The
 * names are those of the entry's source module (both builds are compiled from it); the package
 * test compares `import` and `require` of the installed package name by name.
 */
async function buildNodeEsm(dist: string, manifest: Manifest): Promise<void> {
  const out = join(dist, 'node-esm');
  mkdirSync(out, { recursive: true });
  for (const [subpath, entry] of Object.entries(manifest.exports)) {
    const relativeFile = entry.import.replace(/^\.\/dist\//, '');
    const cjsFile = join(dist, 'cjs', relativeFile);
    const source = join(root, 'src', relativeFile.replace(/\.js$/, '.ts'));
    const wrapper = join(dist, entry.node.replace(/^\.\/dist\//, ''));
    const names = Object.keys((await import(pathToFileURL(source).href)) as object).sort();
    const specifier = relative(dirname(wrapper), cjsFile);
    writeFileSync(
      wrapper,
      [
        `// ${manifest.name}${subpath.slice(1)} for \`import\` in Node: the CommonJS build, one copy for require and import.`,
        `import cjs from '${specifier.startsWith('.') ? specifier : `./${specifier}`}';`,
        `export const {\n${names.map((name) => `  ${name},`).join('\n')}\n} = cjs;`,
        '',
      ].join('\n'),
    );
  }
}

async function buildCli(dist: string): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  await build({
    entryPoints: shippedSources(join(root, 'cli', 'src')),
    outbase: join(root, 'cli', 'src'),
    outdir: dist,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'warning',
  });
}

export async function buildLibrary(dist: string): Promise<void> {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  rmSync(dist, { recursive: true, force: true });
  run(process.execPath, [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    dist,
  ]);
  await buildCommonJs(dist);
  await buildNodeEsm(dist, manifest);
}

/** Pack-ready folders of both packages under `stage`; returns their paths. */
export async function stagePackages(stage: string): Promise<{ library: string; cli: string }> {
  const library = join(stage, 'tfjs-sam');
  const cli = join(stage, 'tfjs-sam-cli');
  rmSync(library, { recursive: true, force: true });
  rmSync(cli, { recursive: true, force: true });
  mkdirSync(library, { recursive: true });
  mkdirSync(cli, { recursive: true });
  for (const file of ['package.json', 'README.md']) cpSync(join(root, file), join(library, file));
  cpSync(join(root, 'data', 'fashion-mnist-mini'), join(library, 'data', 'fashion-mnist-mini'), {
    recursive: true,
  });
  await buildLibrary(join(library, 'dist'));
  for (const file of ['package.json', 'README.md'])
    cpSync(join(root, 'cli', file), join(cli, file));
  await buildCli(join(cli, 'dist'));
  return { library, cli };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: { stage: { type: 'string' }, pack: { type: 'boolean', default: false } },
  });
  if (values.stage !== undefined) {
    const staged = await stagePackages(values.stage);
    console.log(`build: staged ${staged.library} and ${staged.cli}`);
    if (values.pack) {
      for (const dir of [staged.library, staged.cli]) {
        run('npm', ['pack', '--ignore-scripts', '--pack-destination', resolve(values.stage)], dir);
      }
    }
  } else {
    await buildLibrary(join(root, 'dist'));
    await buildCli(join(root, 'cli', 'dist'));
    console.log('build: dist/ (ES modules, dist/cjs, dist/node-esm) and cli/dist/');
  }
}
