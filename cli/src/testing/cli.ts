import { buildProgram } from '../main.js';

/**
 * Runs the `tfjs-sam` CLI in this process and returns what it printed with console.log.
 * Commander errors reject instead of exiting: subcommands do not inherit these settings once
 * created, so each one gets them.
 */
export async function runCli(args: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...parts: unknown[]) => void lines.push(parts.join(' '));
  try {
    const program = buildProgram();
    for (const command of [program, ...program.commands]) {
      command
        .exitOverride()
        .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    }
    await program.parseAsync(['node', 'tfjs-sam', ...args]);
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}
