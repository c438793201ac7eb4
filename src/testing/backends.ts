import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

/** The backends every test suite runs on. tfjs-node is never tested here (it cannot install). */
export const TEST_BACKENDS = ['cpu', 'wasm'] as const;
export type TestBackend = (typeof TEST_BACKENDS)[number];

/** Switches the global engine to `name` and waits until it is ready. */
export async function useBackend(name: TestBackend): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend '${name}' failed to initialize`);
  await tf.ready();
}
