/**
 * The layers of src/ and the direction of their imports (docs/CONTRIBUTING.md explains them).
 * `npm run layers` checks them; CI runs it. A folder may import its own layer and the layers
 * listed as below it; anything else is an error naming both files.
 *
 *   cli
 *   trainer · report
 *   parallel · diagnostics
 *   toolkit (optimizer specs, capability checks)
 *   variants (one file per method, the registry)   schedules
 *   core (SAM, the orchestration of passes)
 *   optimizers (the wrapper base, AdamW, weight decay)
 *   math   backend   data   models
 *   util
 *
 * Nothing imports src/testing or src/cli but tests and scripts; no module imports a test file.
 */
const LAYERS = {
  util: [],
  math: ['util'],
  backend: ['util', 'math'],
  data: ['util'],
  models: ['util'],
  optimizers: ['util', 'math'],
  core: ['util', 'math', 'optimizers'],
  variants: ['util', 'math', 'optimizers', 'core'],
  schedules: ['util', 'optimizers'],
  toolkit: ['util', 'math', 'optimizers', 'core', 'variants'],
  diagnostics: ['util', 'math', 'core'],
  parallel: ['util', 'math', 'backend', 'data', 'models', 'optimizers', 'core', 'toolkit'],
  report: ['util', 'math', 'core', 'diagnostics'],
  trainer: [
    'util',
    'math',
    'backend',
    'data',
    'models',
    'optimizers',
    'core',
    'variants',
    'schedules',
    'toolkit',
    'parallel',
  ],
  cli: [
    'util',
    'math',
    'backend',
    'data',
    'models',
    'optimizers',
    'core',
    'variants',
    'schedules',
    'toolkit',
    'diagnostics',
    'parallel',
    'report',
    'trainer',
  ],
};

const folders = Object.keys(LAYERS);

const layerRules = folders.map((layer) => ({
  name: `layer-${layer}`,
  comment: `src/${layer} may import only ${LAYERS[layer].length ? LAYERS[layer].map((l) => `src/${l}`).join(', ') : 'itself'} (and packages)`,
  severity: 'error',
  from: { path: `^src/${layer}/`, pathNot: '\\.test\\.ts$' },
  to: {
    path: `^src/(${folders.filter((f) => f !== layer && !LAYERS[layer].includes(f)).join('|')}|testing)/`,
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-folder-cycles',
      comment: 'no module takes part in an import cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'entry-points-not-testing',
      comment:
        'the package entry points (src/*.ts) and every module outside tests never import src/testing',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/testing/', '\\.test\\.ts$'] },
      to: { path: '^src/testing/' },
    },
    {
      name: 'nothing-imports-cli',
      comment: 'the CLI is the top: only its own files and tests import it',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/cli/', '^src/testing/', '\\.test\\.ts$'] },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-test-imports',
      comment: 'no shipped module imports a test file',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
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
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
