/**
 * Ctrl-C: the first stops the runs after the current step, with a checkpoint and a word on how to
 * resume; a second, pressed later, quits at once.
 *
 * The processes around the CLI deliver one Ctrl-C more than once: the terminal sends SIGINT to
 * the whole foreground process group (npm, npx, tsx and this process), and npm and tsx also
 * forward it to their child. A training step holds the event loop, so those copies reach the
 * handler together once the step ends: SIGINTs within REPEAT_MS of the first are the same
 * Ctrl-C. npm waits for its child to exit, so nothing races the checkpoint there.
 *
 * tsx's own command (`npx tsx cli/src/main.ts …`) is different: its parent process waits 30 ms for
 * the child to acknowledge a signal, then kills it with SIGKILL — and a child busy with a step
 * cannot answer in 30 ms. So under tsx's command the CLI runs itself again in a child process of
 * its own (`node --import <tsx's loader> …`), which trains; this parent stays idle, answers tsx at
 * once, forwards signals to the child and exits with its exit code.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const REPEAT_MS = 1000;

let interruptedAt: number | null = null;
let handlerInstalled = false;

/** Installs the SIGINT handler of the training commands (once). */
export function installInterruptHandler(): void {
  if (handlerInstalled) return;
  handlerInstalled = true;
  process.on('SIGINT', () => {
    const now = performance.now();
    if (interruptedAt === null) {
      interruptedAt = now;
      process.stderr.write(
        '\nstopping after this step and writing a checkpoint (Ctrl-C again to quit at once)…\n',
      );
    } else if (now - interruptedAt > REPEAT_MS) {
      process.exit(130);
    }
  });
}

export function wasInterrupted(): boolean {
  return interruptedAt !== null;
}

const TSX_PREFLIGHT = /tsx[\\/]dist[\\/]preflight\.cjs$/;

/** True in the child process of tsx's command (`tsx file.ts`), whose parent relays signals. */
export function underTsxCommand(): boolean {
  return process.execArgv.some((arg) => TSX_PREFLIGHT.test(arg));
}

/**
 * Runs this command again in a child process without tsx's signal relay (the same node flags but
 * tsx's preflight), forwards SIGINT and SIGTERM to it, and exits as it exits.
 */
export function runInChildProcess(): void {
  const flags: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const arg = process.execArgv[i] as string;
    if (arg === '--require' && TSX_PREFLIGHT.test(process.execArgv[i + 1] ?? '')) i++;
    else if (!TSX_PREFLIGHT.test(arg)) flags.push(arg);
  }
  const child = spawn(process.execPath, [...flags, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    process.exit(code ?? 128 + (signal === null ? 1 : (constants.signals[signal] ?? 1)));
  });
}
