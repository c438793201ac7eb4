/**
 * The layers of src/ (the library, package tfjs-sam) and of cli/src/ (the command and its
 * reports, package tfjs-sam-cli), and the direction of their imports (docs/CONTRIBUTING.md
 * explains them). `npm run layers` checks them; CI runs it. A folder may import its own layer and
 * the layers listed as below it; anything else is an error naming both files.
 *
 *   cli/src (the commands)                 package tfjs-sam-cli: imports the library only
 *   cli/src/report (plots, HTML)           through its entry points (tfjs-sam, tfjs-sam/<entry>)
 *   ───────────────────────────────────────────────────────────────────────────────────────────
 *   trainer
 *   parallel · diagnostics · node (file:// save and load)
 *   toolkit (optimizer specs, capability checks)
 *   variants (one file per method, the registry)   schedules
 *   core (SAM, the orchestration of passes)
 *   optimizers (the wrapper base, AdamW, weight decay)
 *   math   backend   data   models
 *   util
 *
 * Nothing imports src/testing or cli/src/testing but tests and scripts; the library never imports
 * the CLI; no module imports a test file.
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
/** Each layer and the layers right below it; a layer may import everything below those too. */
const BELOW = {
  util: [],
  math: ['util'],
  backend: ['math'],
  data: ['util'],
  models: ['math'],
  optimizers: ['math'],
  core: ['optimizers'],
  variants: ['core'],
  schedules: ['optimizers'],
  toolkit: ['variants'],
  diagnostics: ['core'],
  parallel: ['toolkit', 'backend', 'data', 'models'],
  node: ['util'],
  trainer: ['parallel', 'schedules', 'node'],
};

/** The source of each package entry point: `./dist/data/index.js` → `src/data/index.ts`. */
const manifest = JSON.parse(readFileSync(join(__dirname, 'package.json'), 'utf8'));
const entrySources = Object.values(manifest.exports).map((entry) =>
  entry.import.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'),
);
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ENTRY_POINTS = `^(${entrySources.map(escape).join('|')})$`;

/** The layers `layer` may import: the transitive closure of BELOW. */
function allowed(layer, seen = new Set()) {
  for (const below of BELOW[layer]) {
    if (!seen.has(below)) {
      seen.add(below);
      allowed(below, seen);
    }
  }
  return seen;
}

const folders = Object.keys(BELOW);

const layerRules = folders.map((layer) => {
  const below = allowed(layer);
  return {
    name: `layer-${layer}`,
    comment: `src/${layer} may import only ${below.size > 0 ? [...below].map((l) => `src/${l}`).join(', ') : 'itself'} (and packages)`,
    severity: 'error',
    from: { path: `^src/${layer}/`, pathNot: '\\.test\\.ts$' },
    to: {
      path: `^src/(${folders.filter((f) => f !== layer && !below.has(f)).join('|')}|testing)/`,
    },
  };
});

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-folder-cycles',
      comment: 'no module takes part in an import cycle',
      severity: 'error',
      from: { path: '^(src|cli/src)/' },
      to: { circular: true },
    },
    {
      name: 'entry-points-not-testing',
      comment:
        'the package entry points and every module outside tests never import src/testing or cli/src/testing',
      severity: 'error',
      from: { path: '^(src|cli/src)/', pathNot: ['^(src|cli/src)/testing/', '\\.test\\.ts$'] },
      to: { path: '^(src|cli/src)/testing/' },
    },
    {
      name: 'library-not-cli',
      comment:
        'the library (src/, package tfjs-sam) never imports the CLI or its reports (cli/, package tfjs-sam-cli)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^cli/' },
    },
    {
      name: 'cli-through-entry-points',
      comment: `the CLI imports the library only through its package entry points (${entrySources.join(', ')}), as it will once installed`,
      severity: 'error',
      from: { path: '^cli/src/', pathNot: ['^cli/src/testing/', '\\.test\\.ts$'] },
      to: { path: '^src/', pathNot: ENTRY_POINTS },
    },
    {
      name: 'cli-by-package-name',
      comment:
        "the CLI imports the library by its package name ('tfjs-sam/data'), never by a relative path into src/",
      severity: 'error',
      from: { path: '^cli/src/', pathNot: ['^cli/src/testing/', '\\.test\\.ts$'] },
      to: { path: '^src/', dependencyTypesNot: ['aliased-tsconfig-paths'] },
    },
    {
      name: 'layer-cli-report',
      comment:
        'cli/src/report (plots, HTML reports) is below the commands: it imports only the library',
      severity: 'error',
      from: { path: '^cli/src/report/', pathNot: '\\.test\\.ts$' },
      to: { path: '^cli/src/', pathNot: '^cli/src/report/' },
    },
    {
      name: 'no-test-imports',
      comment: 'no shipped module imports a test file',
      severity: 'error',
      from: { path: '^(src|cli/src)/', pathNot: '\\.test\\.ts$' },
      to: { path: '\\.test\\.ts$' },
    },
    {
      name: 'no-sub-folder-cycles',
      comment:
        'backend/fused and backend/wasm-kernels: the kernels may use the fused passes, not the reverse',
      severity: 'error',
      from: { path: '^src/backend/fused/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/backend/wasm-kernels/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^(src|cli/src)/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
