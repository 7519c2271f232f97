/**
 * Heap-size estimates used for `maxmemory`, `INFO memory` and `MEMORY USAGE`.
 *
 * The figures model V8 on 64-bit Node without pointer compression: a sequential one-byte string is
 * a 16-byte header plus its bytes rounded up to 8; a Map entry costs its three words plus its share
 * of the bucket array and spare capacity. They were calibrated against `process.memoryUsage()`
 * deltas (see bench/engine/memory.ts) so the total tracks real heap use within about 10%.
 */

/** Per-slot bytes of the parallel arrays (keys, values: 8 each; kind 1; expiry 8). Access stamps add 4 when on. */
export const SLOT_ARRAY_BYTES = 25;

/** Per-entry bytes outside the strings: the index Map's entry (three words plus bucket share, ~29). */
export const ENTRY_OVERHEAD_BYTES = 29;

/** Bytes of one hash field in its Map (entry overhead plus both strings). */
export function hashFieldBytes(field: string, value: string): number {
  return 40 + stringBytes(field) + stringBytes(value);
}

/** Heap bytes of a string of `s.length` one-byte characters. */
export function stringBytes(s: string): number {
  return (16 + s.length + 7) & ~7;
}

/**
 * Parses a Valkey memory size: a plain byte count or a number with b/k/kb/m/mb/g/gb (k = 1000,
 * kb = 1024, as in valkey.conf). Returns null when malformed.
 */
export function parseMemorySize(text: string): number | null {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult: Record<string, number> = {
    b: 1,
    k: 1000,
    kb: 1024,
    m: 1000 ** 2,
    mb: 1024 ** 2,
    g: 1000 ** 3,
    gb: 1024 ** 3,
  };
  return n * mult[unit]!;
}
