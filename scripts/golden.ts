/**
 * npm run golden -- <file.json> [--cases a,b] [--backend cpu|wasm]
 * Replays reference trajectories; prints `<name> <max relative error> PASS|TIE|FAIL|UNSUPPORTED`
 * per case, then `N passed, M failed`; exits 1 when a case fails.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { replayCase, type GoldenFile } from '../src/testing/golden.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cases: { type: 'string' }, backend: { type: 'string', default: 'cpu' } },
});
const path = positionals[0];
if (path === undefined) {
  console.error('usage: npm run golden -- <file.json> [--cases name,name] [--backend cpu|wasm]');
  process.exit(2);
}
const backend = values.backend as string;
if (!['cpu', 'wasm'].includes(backend)) {
  console.error(`--backend is '${backend}'; expected cpu or wasm.`);
  process.exit(2);
}
let file: GoldenFile;
try {
  file = JSON.parse(readFileSync(path, 'utf8')) as GoldenFile;
} catch (error) {
  console.error(`cannot read golden file '${path}': ${(error as Error).message}`);
  process.exit(2);
}
const wanted = values.cases
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown = wanted?.filter((name) => !file.cases.some((c) => c.name === name)) ?? [];
if (unknown.length > 0) {
  console.error(
    `unknown case(s): ${unknown.join(', ')}. Cases in ${path}: ${file.cases.map((c) => c.name).join(', ')}`,
  );
  process.exit(2);
}
await tf.setBackend(backend);
await tf.ready();
console.log(`golden replay of ${path} on the ${tf.getBackend()} backend (float32), tolerance 1e-4`);
let passed = 0;
let failed = 0;
let ties = 0;
for (const goldenCase of file.cases.filter(
  (c) => wanted === undefined || wanted.includes(c.name),
)) {
  const result = replayCase(file, goldenCase);
  const error = Number.isNaN(result.maxRelativeError)
    ? '-'
    : result.maxRelativeError.toExponential(3);
  const lossNote =
    result.status === 'UNSUPPORTED' ? '' : ` (loss ${result.lossRelativeError.toExponential(3)})`;
  console.log(
    `${result.name} ${error} ${result.status}${lossNote}${result.detail ? ` — ${result.detail}` : ''}`,
  );
  if (result.status === 'PASS') passed++;
  if (result.status === 'TIE') ties++;
  if (result.status === 'FAIL') failed++;
}
console.log(
  `${passed} passed, ${ties} float32 tie${ties === 1 ? '' : 's'} (XSAM α search decided below float32 resolution; the reference's α taken there, every step compared), ${failed} failed`,
);
process.exit(failed > 0 ? 1 : 0);
