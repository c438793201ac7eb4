import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { wasmGradient } from './wasm-gradient.js';

/**
 * The gradient of tile(x, reps) as one reshape + sum: dy viewed as [r0, d0, r1, d1, …] summed
 * over the r axes. tfjs-core's Tile gradient adds one slice of dy per repetition (B·L slices for
 * the gamma/beta tiling of tfjs-layers' LayerNormalization), which is what made a transformer
 * step take seconds on wasm.
 */
export function tileGradient(dy: Tensor, x: Tensor, reps: number[]): Tensor {
  const groups: Array<{ size: number; repeated: boolean }> = [];
  x.shape.forEach((d, i) => {
    for (const group of [
      { size: reps[i] ?? 1, repeated: true },
      { size: d, repeated: false },
    ]) {
      if (group.size === 1) continue;
      const previous = groups[groups.length - 1];
      if (previous !== undefined && previous.repeated === group.repeated)
        previous.size *= group.size;
      else groups.push(group);
    }
  });
  const axes = groups.flatMap((g, i) => (g.repeated ? [i] : []));
  return tf.tidy(() => {
    const grouped = tf.reshape(
      dy,
      groups.map((g) => g.size),
    );
    return tf.reshape(axes.length === 0 ? grouped : tf.sum(grouped, axes), x.shape);
  });
}

/** The Tile gradient config: `tileGradient` on the wasm backend, `original` elsewhere. */
export function makeTileGradConfig(original: GradConfig | undefined): GradConfig {
  return wasmGradient('Tile', original, (dy, x, attrs) =>
    tileGradient(dy, x, attrs['reps'] as number[]),
  );
}
