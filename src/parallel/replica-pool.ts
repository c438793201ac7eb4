/**
 * The worker threads of a data-parallel trainer: start, one step at a time, failure and shutdown.
 * A failure of any worker (an uncaught error, or an exit the pool did not ask for) rejects every
 * pending call with the worker's message and stack, and terminates the other workers.
 */
import { Worker } from 'node:worker_threads';
import type { FromWorker, StepMessage, ToWorker, WorkerInit } from './protocol.js';

export interface StepReply {
  loss: number;
  accuracy: number;
  numTensors: number;
}

interface Pending {
  resolve: (value: FromWorker) => void;
  reject: (error: Error) => void;
}

/** The worker module beside this file: worker.ts under tsx (dev, tests), worker.js in dist/. */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './worker.ts' : './worker.js', here);
}

/**
 * Built .js runs on plain node. TypeScript sources (dev, tests) go through tsx: on Node 20,
 * `execArgv: ['--import', 'tsx']` does not reach a worker's entry module (measured: "Unknown file
 * extension .ts"), so a small bootstrap loads the module with tsx's `tsImport` instead.
 */
function startWorker(url: URL, init: WorkerInit): Worker {
  if (!/\.[cm]?ts$/.test(url.pathname)) return new Worker(url, { workerData: init, execArgv: [] });
  const api = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  const target = JSON.stringify(url.href);
  const bootstrap = `import(${api}).then(({ tsImport }) => tsImport(${target}, ${target}));`;
  return new Worker(bootstrap, { eval: true, workerData: init, execArgv: [] });
}

export class ReplicaPool {
  /** Tensors alive in each worker after its last step (or after start-up). */
  readonly tensorCounts: number[];
  private readonly workers: Worker[];
  private readonly pending: Array<Pending | null>;
  private readonly exited: boolean[];
  private failure: Error | null = null;
  private terminating = false;

  private constructor(inits: readonly WorkerInit[], url: URL) {
    this.tensorCounts = inits.map(() => 0);
    this.pending = inits.map(() => null);
    this.exited = inits.map(() => false);
    this.workers = inits.map((init, index) => {
      const worker = startWorker(url, init);
      worker.on('message', (message: FromWorker) => this.settle(index, message));
      worker.on('error', (error: Error) => this.fail(index, error));
      worker.on('exit', (code) => {
        this.exited[index] = true;
        if (!this.terminating) {
          this.fail(index, new Error(`the worker thread exited unexpectedly with code ${code}`));
        }
      });
      // Idle workers do not keep the process alive; each call refs them while it waits.
      worker.unref();
      return worker;
    });
  }

  /** Starts one worker per init and waits until every replica is built. */
  static async start(inits: readonly WorkerInit[], url: URL): Promise<ReplicaPool> {
    const pool = new ReplicaPool(inits, url);
    await pool.waitAll(inits.map((_, i) => i));
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Workers whose thread has not exited yet. */
  get running(): number {
    return this.exited.filter((e) => !e).length;
  }

  /** The error that stopped the pool, if any. */
  get error(): Error | null {
    return this.failure;
  }

  /** Sends `messages[i]` to worker i (null: worker i sits this step out) and waits for the replies. */
  async step(messages: ReadonlyArray<StepMessage | null>): Promise<Array<StepReply | null>> {
    const active = messages.flatMap((m, i) => (m === null ? [] : [i]));
    const waiting = this.waitAll(active);
    active.forEach((i) => (this.workers[i] as Worker).postMessage(messages[i]));
    const replies = await waiting;
    const out: Array<StepReply | null> = messages.map(() => null);
    active.forEach((workerIndex, j) => {
      const reply = replies[j] as FromWorker;
      if (reply.type === 'done') out[workerIndex] = reply;
    });
    return out;
  }

  /** Sends worker `index` a message that it answers with nothing (a failure ends the pool). */
  post(index: number, message: ToWorker): void {
    if (this.failure !== null) throw this.failure;
    (this.workers[index] as Worker).postMessage(message);
  }

  /** Terminates every worker and waits until their threads have exited. */
  async terminate(): Promise<void> {
    this.terminating = true;
    this.rejectPending(
      new Error('the data-parallel trainer was disposed while a step was running.'),
    );
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private waitAll(indices: readonly number[]): Promise<FromWorker[]> {
    if (this.failure !== null) return Promise.reject(this.failure);
    const replies = indices.map(
      (i) =>
        new Promise<FromWorker>((resolve, reject) => {
          this.pending[i] = { resolve, reject };
        }),
    );
    indices.forEach((i) => (this.workers[i] as Worker).ref());
    return Promise.all(replies).finally(() => {
      if (!this.terminating) indices.forEach((i) => (this.workers[i] as Worker).unref());
    });
  }

  private settle(index: number, message: FromWorker): void {
    this.tensorCounts[index] = message.numTensors;
    const pending = this.pending[index];
    this.pending[index] = null;
    pending?.resolve(message);
  }

  private fail(index: number, cause: Error): void {
    if (this.failure !== null || this.terminating) return;
    this.failure = new Error(
      `data-parallel worker ${index} failed: ${cause.message}\n` +
        'The other workers were terminated; the main model keeps the weights of the last completed step. ' +
        'Fix the cause and start a new trainer with createDataParallel().\n' +
        `worker stack: ${cause.stack ?? '(none)'}`,
      { cause },
    );
    this.rejectPending(this.failure);
    this.terminating = true;
    for (const worker of this.workers) void worker.terminate();
  }

  private rejectPending(error: Error): void {
    this.pending.forEach((p, i) => {
      this.pending[i] = null;
      p?.reject(error);
    });
  }
}
