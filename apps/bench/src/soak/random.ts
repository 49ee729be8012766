/**
 * A small seeded generator (mulberry32) for the soak: the same seed gives the same mix of
 * conversations and the same bytes, so a failing soak can be run again as it was.
 * @module
 */

/** A seeded source of random integers. */
export interface Random {
  /** A uniformly distributed unsigned 32-bit integer. */
  uint32(): number;
  /** An integer in `[min, max]`, both included. */
  int(min: number, max: number): number;
}

/** A generator seeded with `seed` (any 32-bit integer). */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { uint32, int: (min, max) => min + (uint32() % (max - min + 1)) };
}
