import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from './wasm-kernels/index.js';
import { registerCpuTrainingKernels } from './cpu-kernels.js';

export type BackendChoice = 'node' | 'wasm' | 'cpu';

export interface SelectBackendOptions {
  /** Backend to use; fails with an actionable error when it cannot be had. */
  prefer?: BackendChoice;
  /** Receives one line naming the chosen backend (default: console.log). */
  log?: (message: string) => void;
}

const TFJS_NODE = '@tensorflow/tfjs-node';
let loggedChoice: string | undefined;

async function tryNode(): Promise<boolean> {
  try {
    // A computed specifier keeps bundlers and tsc from resolving the optional peer.
    const specifier: string = TFJS_NODE;
    await import(specifier);
  } catch {
    return false;
  }
  return tf.findBackend('tensorflow') !== null && (await tf.setBackend('tensorflow'));
}

async function tryWasm(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
    registerWasmTrainingKernels();
    return true;
  } catch {
    return false;
  }
}

async function tryCpu(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) return false;
    registerCpuTrainingKernels();
    return true;
  } catch {
    return false;
  }
}

const INSTALL_HINT: Record<BackendChoice, string> = {
  node: `install ${TFJS_NODE} (native TensorFlow; needs a supported platform) or prefer 'wasm'`,
  wasm: `install @tensorflow/tfjs-backend-wasm@^4.22.0 or prefer 'cpu'`,
  cpu: `install @tensorflow/tfjs-backend-cpu@^4.22.0`,
};

const ATTEMPTS: Record<BackendChoice, () => Promise<boolean>> = {
  node: tryNode,
  wasm: tryWasm,
  cpu: tryCpu,
};

/**
 * Picks the fastest training backend available: tfjs-node if it can be imported, else wasm
 * with the training kernels registered, else cpu. Returns the tfjs backend name.
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<string> {
  const log = options.log ?? ((message: string) => console.log(message));
  const order: BackendChoice[] =
    options.prefer !== undefined ? [options.prefer] : ['node', 'wasm', 'cpu'];
  for (const choice of order) {
    if (!(choice in ATTEMPTS)) {
      throw new Error(
        `unknown backend preference '${String(choice)}'; use 'node', 'wasm' or 'cpu'`,
      );
    }
    if (await ATTEMPTS[choice]()) {
      await tf.ready();
      const name = tf.getBackend();
      if (loggedChoice !== name) {
        loggedChoice = name;
        log(`tfjs-sam: training on the '${name}' backend`);
      }
      return name;
    }
  }
  if (options.prefer !== undefined) {
    throw new Error(
      `backend '${options.prefer}' is not available: ${INSTALL_HINT[options.prefer]}`,
    );
  }
  throw new Error(`no tfjs backend could be initialised: ${INSTALL_HINT.cpu}`);
}

/** `selectBackend()` with the default order and logging. */
export function useFastestBackend(): Promise<string> {
  return selectBackend();
}
