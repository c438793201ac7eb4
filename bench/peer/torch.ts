/**
 * The PyTorch peer of the benchmarks: bench/peer/torch_step.py in a Python that has torch (Debian's
 * python3-torch, or $PYTHON), kept running so that its rows can be interleaved with ours.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./torch_step.py', import.meta.url));

export interface TorchPeer {
  version: string;
  threads: number;
  python: string;
  timeSteps(model: string, method: 'sgd' | 'sam', steps: number, warmup: number): Promise<number[]>;
  close(): void;
}

/** The interpreters tried: $PYTHON, then Debian's (a pyenv shim on PATH may not see its torch). */
function candidates(): string[] {
  const fromEnv = process.env['PYTHON'];
  return fromEnv !== undefined ? [fromEnv] : ['/usr/bin/python3', 'python3'];
}

function findPython(): string {
  for (const python of candidates()) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) return python;
  }
  throw new Error(
    `--peer torch: no Python with PyTorch found (tried ${candidates().join(', ')}). ` +
      "Install Debian's PyTorch with `apt-get install python3-torch`, or set PYTHON to an " +
      'interpreter that can `import torch`. The benchmark installs nothing by itself.',
  );
}

export async function startTorchPeer(threads: number): Promise<TorchPeer> {
  const python = findPython();
  const child: ChildProcessWithoutNullStreams = spawn(
    python,
    [SCRIPT, '--threads', String(threads)],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done === true) {
      throw new Error(`the PyTorch peer (${python} ${SCRIPT}) stopped: ${stderr.trim()}`);
    }
    const reply = JSON.parse(line.value) as Record<string, unknown>;
    if (typeof reply['error'] === 'string') {
      throw new Error(`the PyTorch peer failed: ${reply['error']}`);
    }
    return reply;
  };
  const hello = await next();
  return {
    version: String(hello['torch']),
    threads: Number(hello['threads']),
    python,
    async timeSteps(model, method, steps, warmup) {
      child.stdin.write(`time ${model} ${method} ${steps} ${warmup}\n`);
      return (await next())['stepMs'] as number[];
    },
    close() {
      child.stdin.end('quit\n');
    },
  };
}
