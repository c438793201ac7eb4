import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { registerCpuTrainingKernels } from '../../src/backend/cpu-kernels.js';

/**
 * Picks the first backend that initializes. WebGL is unavailable in headless Chromium with
 * --disable-gpu and on some machines; cpu always works. `?backend=cpu` in the address forces one.
 */
export async function selectBackend(preferred: readonly string[]): Promise<string> {
  const requested = new URLSearchParams(window.location.search).get('backend');
  const candidates = requested ? [requested, ...preferred] : preferred;
  for (const name of candidates) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        // The embedding gradient on cpu, one pass instead of one reduction per vocabulary entry.
        if (tf.getBackend() === 'cpu') registerCpuTrainingKernels();
        return tf.getBackend();
      }
    } catch {
      // try the next one
    }
  }
  throw new Error(`No TensorFlow.js backend among ${preferred.join(', ')} could start.`);
}
