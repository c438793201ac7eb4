/** Seeded initializers: every layer gets its own seed derived from the model seed. */
import * as tfl from '@tensorflow/tfjs-layers';

type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

/** Mixes a model seed and a layer index into a 31-bit seed (a SplitMix32-style integer hash). */
export function deriveSeed(seed: number, index: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index | 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 1;
}

/**
 * Hands out initializers in build order. With a seed, each call gets the next derived seed, so two
 * models built with the same seed get identical weights; without one, initialization is random.
 */
export class SeededInitializers {
  private issued = 0;

  constructor(private readonly seed: number | undefined) {}

  nextSeed(): number | undefined {
    if (this.seed === undefined) return undefined;
    this.issued += 1;
    return deriveSeed(this.seed, this.issued);
  }

  glorotUniform(): Initializer {
    return tfl.initializers.glorotUniform({ seed: this.nextSeed() });
  }

  heNormal(): Initializer {
    return tfl.initializers.heNormal({ seed: this.nextSeed() });
  }

  /** The Keras default for embeddings: uniform in [-0.05, 0.05]. */
  embeddingUniform(): Initializer {
    return tfl.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: this.nextSeed() });
  }
}
