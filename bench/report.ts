/** What every benchmark states: the machine, the command, a table on stdout and a JSON file. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, relative } from 'node:path';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  command: string;
  /** How the benchmark's code ran: compiled to JavaScript (scripts/run-compiled.ts) or through tsx. */
  runs: 'compiled' | 'tsx';
  date: string;
}

export function machineInfo(): MachineInfo {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    command: commandLine(),
    runs: compiledFrom() === undefined ? 'tsx' : 'compiled',
    date: new Date().toISOString(),
  };
}

/** The benchmark's source when scripts/run-compiled.ts runs its compiled form. */
const compiledFrom = () => process.env['TFJS_SAM_COMPILED_FROM'];

/** How this benchmark was started: `npm run <script> -- …`, or the `npx tsx …` command. */
function commandLine(): string {
  const script = process.env['npm_lifecycle_event'];
  const args = process.argv.slice(2);
  if (script !== undefined && script !== 'npx') return ['npm run', script, '--', ...args].join(' ');
  const source = compiledFrom();
  return source !== undefined
    ? ['npx tsx scripts/run-compiled.ts', source, ...args].join(' ')
    : ['npx tsx', relative(process.cwd(), process.argv[1] ?? ''), ...args].join(' ');
}

export function printHeader(title: string, machine: MachineInfo): void {
  console.log(
    `${title}\nmachine: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, node ${machine.node} (${machine.platform}), ${machine.runs === 'compiled' ? 'compiled JavaScript' : 'TypeScript through tsx'}`,
  );
  console.log(`command: ${machine.command}\n`);
}

/** A plain fixed-width table (numbers right-aligned) that reads well in a terminal and in Markdown. */
export function formatTable(rows: ReadonlyArray<Record<string, string | number>>): string {
  if (rows.length === 0) return '(no rows)';
  const columns = Object.keys(rows[0] as object);
  const cells = rows.map((row) => columns.map((c) => String(row[c] ?? '')));
  const widths = columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => (r[i] as string).length)),
  );
  const line = (values: string[]) =>
    `| ${values.map((v, i) => v.padEnd(widths[i] as number)).join(' | ')} |`;
  return [
    line(columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
  ].join('\n');
}

/** Writes the result file and says where (pass console.error to keep stdout for JSON lines). */
export function writeJson(
  path: string,
  payload: unknown,
  say: (line: string) => void = console.log,
): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(payload, null, 2) + '\n');
  say(`\nwrote ${path}`);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A command-line value that must be one of `allowed`. */
export function choiceFlag<T extends string>(
  flag: string,
  value: string,
  allowed: readonly T[],
): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new Error(`${flag} '${value}' is unknown; use one of ${allowed.join(', ')}`);
  return value as T;
}

/** A command-line value that must be an integer ≥ `min`. */
export function integerFlag(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`${flag} must be an integer >= ${min}, got '${value}'`);
  return n;
}
