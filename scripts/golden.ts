/**
 * npm run golden [-- <file.json> ...] [--cases a,b] [--backend cpu|wasm]
 * Replays reference trajectories: the given files, or by default every golden/*.json of the
 * repository and every ../shared/golden/*.json that is not byte-identical to a repository copy.
 * Prints `<name> <max relative error> PASS|TIE|FAIL|UNSUPPORTED` per case and a summary per file;
 * exits 1 when a case fails.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { GOLDEN_DIR, replayCase, type GoldenFile } from '../src/testing/golden.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cases: { type: 'string' }, backend: { type: 'string', default: 'cpu' } },
});
const backend = values.backend as string;
if (!['cpu', 'wasm'].includes(backend)) {
  console.error(`--backend is '${backend}'; expected cpu or wasm.`);
  process.exit(2);
}

const jsonIn = (dir: string) =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => join(dir, name))
    : [];

/** The repository's files, then the shared folder's new or changed ones. */
function defaultFiles(): string[] {
  const own = jsonIn(GOLDEN_DIR);
  const shared = jsonIn(fileURLToPath(new URL('../../shared/golden/', import.meta.url))).filter(
    (path) => {
      const copy = join(GOLDEN_DIR, basename(path));
      return !existsSync(copy) || !readFileSync(copy).equals(readFileSync(path));
    },
  );
  for (const path of shared) {
    console.log(
      `note: ${path} is new or differs from the repository's copy; replaying it too (copy it into golden/ to keep it)`,
    );
  }
  return [...own, ...shared];
}

const paths = positionals.length > 0 ? positionals : defaultFiles();
if (paths.length === 0) {
  console.error(`no golden files: none given and none in ${GOLDEN_DIR}`);
  process.exit(2);
}
const files = paths.map((path) => {
  try {
    return { path, file: JSON.parse(readFileSync(path, 'utf8')) as GoldenFile };
  } catch (error) {
    console.error(`cannot read golden file '${path}': ${(error as Error).message}`);
    process.exit(2);
  }
});
const wanted = values.cases
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const unknown =
  wanted?.filter((name) => !files.some(({ file }) => file.cases.some((c) => c.name === name))) ??
  [];
if (unknown.length > 0) {
  console.error(
    `unknown case(s): ${unknown.join(', ')}. Cases: ${files.flatMap(({ file }) => file.cases.map((c) => c.name)).join(', ')}`,
  );
  process.exit(2);
}
await tf.setBackend(backend);
await tf.ready();
let failedTotal = 0;
for (const { path, file } of files) {
  console.log(
    `golden replay of ${relative(process.cwd(), path)} on the ${tf.getBackend()} backend (float32), tolerance 1e-4`,
  );
  const counts = { PASS: 0, TIE: 0, FAIL: 0, UNSUPPORTED: 0 };
  for (const goldenCase of file.cases.filter(
    (c) => wanted === undefined || wanted.includes(c.name),
  )) {
    const result = replayCase(file, goldenCase);
    const error = Number.isNaN(result.maxRelativeError)
      ? '-'
      : result.maxRelativeError.toExponential(3);
    const lossNote =
      result.status === 'UNSUPPORTED'
        ? ''
        : Number.isNaN(result.lossRelativeError)
          ? ' (loss not compared)'
          : ` (loss ${result.lossRelativeError.toExponential(3)})`;
    console.log(
      `${result.name} ${error} ${result.status}${lossNote}${result.detail ? ` — ${result.detail}` : ''}`,
    );
    counts[result.status] += 1;
  }
  console.log(
    `${counts.PASS} passed, ${counts.TIE} float32 tie${counts.TIE === 1 ? '' : 's'} (a choice decided below float32 resolution; the reference's taken there, every step compared), ${counts.FAIL} failed, ${counts.UNSUPPORTED} not supported yet\n`,
  );
  failedTotal += counts.FAIL;
}
process.exit(failedTotal > 0 ? 1 : 0);
