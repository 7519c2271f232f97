/**
 * Fuzz material shared by the fuzz and soak tests: a seeded PRNG, valid frames, and mutations of
 * them (flipped bytes, truncation, injected numbers, random junk).
 */

/** A seeded xorshift PRNG in [0, 1): a failing run reproduces. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Valid commands the fuzzer starts from. */
export const VALID: string[][] = [
  ['SET', 'k', 'v', 'EX', '100'],
  ['GET', 'k'],
  ['HSET', 'h', 'f', 'v'],
  ['MSET', 'a', '1', 'b', '2'],
  ['INCRBY', 'n', '5'],
  ['SCAN', '0', 'MATCH', '*', 'COUNT', '10'],
  ['CACHE.REFRESH', 'c', 'v', '100', '0201'],
  ['CACHE.INVALIDATE', 'c', '0202'],
  ['EXPIRE', 'k', '10', 'GT'],
  ['HELLO', '3'],
  ['CLIENT', 'SETNAME', 'x'],
  ['CONFIG', 'GET', '*'],
];

/** Corrupts a frame: flipped bytes, truncation, injected digits, or junk. */
export function mutate(frame: Buffer, r: () => number): Buffer {
  const out = Buffer.from(frame);
  const kind = Math.floor(r() * 4);
  if (kind === 0) {
    for (let i = 0; i < 1 + r() * 4; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
    return out;
  }
  if (kind === 1) return out.subarray(0, Math.floor(r() * out.length));
  if (kind === 2) {
    const at = Math.floor(r() * out.length);
    return Buffer.concat([out.subarray(0, at), Buffer.from(String(Math.floor(r() * 1e9))), out.subarray(at)]);
  }
  const junk = Buffer.alloc(Math.floor(r() * 200));
  for (let i = 0; i < junk.length; i++) junk[i] = Math.floor(r() * 256);
  return junk;
}
