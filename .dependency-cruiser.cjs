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
/** Each layer and the layers right below it; a layer may import everything below those too. */
const BELOW = {
  util: [],
  math: ['util'],
  backend: ['math'],
  data: ['util'],
  models: ['util'],
  optimizers: ['math'],
  core: ['optimizers'],
  variants: ['core'],
  schedules: ['optimizers'],
  toolkit: ['variants'],
  diagnostics: ['core'],
  parallel: ['toolkit', 'backend', 'data', 'models'],
  report: ['diagnostics'],
  trainer: ['parallel', 'schedules'],
  cli: ['trainer', 'report'],
};

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
