import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs-core';

/**
 * The gradient config of a one-input kernel whose gradient is `gradientOf` on the wasm backend and
 * `original`'s elsewhere. Without an original (tfjs-core registers gradients when tfjs-layers is
 * imported) it serves every backend; importing tfjs-layers afterwards replaces it with tfjs-core's.
 */
export function wasmGradient(
  kernelName: string,
  original: GradConfig | undefined,
  gradientOf: (dy: Tensor, x: Tensor, attrs: NamedAttrMap) => Tensor,
): GradConfig {
  return {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      if (original !== undefined && tf.getBackend() !== 'wasm')
        return original.gradFunc(dy, saved, attrs);
      const [x] = saved;
      if (x === undefined || Array.isArray(dy))
        throw new Error(`${kernelName} gradient expects one saved input x and one dy`);
      return { x: () => gradientOf(dy, x, attrs) };
    },
  };
}
