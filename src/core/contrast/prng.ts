/**
 * The sampler's PRNG and shuffle (docs/contracts.md §5), bit-identical to the trainer's Python.
 * All arithmetic is on unsigned 32-bit integers; checked against test/golden/sampler.json.
 */

export type Rng = () => number;

/** mulberry32: returns a generator of unsigned 32-bit integers. `seed` is reduced mod 2^32. */
export function mulberry32(seed: number): Rng {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  let state = seed % 4294967296;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Fisher-Yates from the end, j = floor(next() * (i + 1) / 2^32). Returns a new array. */
export function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    // next() * (i + 1) < 2^53 for any array length we can hold, so the product is exact.
    const j = Math.floor((rng() * (i + 1)) / 4294967296);
    const tmp = a[i] as T;
    a[i] = a[j] as T;
    a[j] = tmp;
  }
  return a;
}

/** [0, 1, ..., n-1] */
export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
