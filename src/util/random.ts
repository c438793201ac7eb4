/**
 * A small seeded PRNG shared by every random choice in the data layer (shuffles, splits, label
 * noise, augmentation), so one integer seed reproduces a whole pipeline on any backend.
 */
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  int(maxExclusive: number): number;
}

function checkSeed(seed: number): number {
  if (!Number.isInteger(seed)) {
    throw new Error(`seed is ${String(seed)}; expected an integer (any sign, taken modulo 2^32).`);
  }
  return seed >>> 0;
}

/** mulberry32 (Tommy Ettinger, public domain): 32-bit state, period 2^32. */
export function createRandom(seed: number): Random {
  let state = checkSeed(seed);
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (maxExclusive: number): number => {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > 2 ** 32) {
      throw new Error(`Random.int: bound is ${maxExclusive}; expected an integer in 1..2^32.`);
    }
    return Math.floor(next() * maxExclusive);
  };
  return { next, int };
}

/**
 * A seed for an independent stream derived from `seed` and stream ids (e.g. an epoch number),
 * mixed with the murmur3 finalizer so that nearby inputs give unrelated seeds.
 */
export function deriveSeed(seed: number, ...streams: number[]): number {
  let hash = checkSeed(seed);
  for (const stream of [...streams, streams.length]) {
    hash ^= checkSeed(stream) + 0x9e3779b9 + (hash << 6) + (hash >>> 2);
    hash ^= hash >>> 16;
    hash = Math.imul(hash, 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 16;
  }
  return hash >>> 0;
}

/** Fisher–Yates shuffle of `values` in place. */
export function shuffleInPlace<T extends { length: number; [index: number]: unknown }>(
  values: T,
  random: Random,
): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const held = values[i];
    values[i] = values[j];
    values[j] = held;
  }
  return values;
}

/** A uniformly random permutation of 0..n-1. */
export function permutation(n: number, random: Random): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, random);
}

/** `k` distinct indices drawn uniformly from 0..n-1 (a partial Fisher–Yates), in draw order. */
export function sampleWithoutReplacement(n: number, k: number, random: Random): Int32Array {
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new Error(`cannot draw ${k} distinct indices from ${n}; expected 0 <= k <= ${n}.`);
  }
  const pool = new Int32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + random.int(n - i);
    const held = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = held;
  }
  return pool.slice(0, k);
}
