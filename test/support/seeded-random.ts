/**
 * Mulberry32, the small seeded generator the fuzz and parity tests draw from, so a failing run
 * replays with the same seed. One copy here: the tests that pinned sequences keep them (the same
 * seed gives the same numbers as the copies this replaced).
 */

/** A generator of numbers in [0, 1) from `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A generator of whole numbers in [0, n) from `seed`. */
export function seededInts(seed: number): (n: number) => number {
  const next = mulberry32(seed);
  return (n) => Math.floor(next() * n);
}
