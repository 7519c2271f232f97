/**
 * Heap-size estimates used for `maxmemory`, `INFO memory` and `MEMORY USAGE`.
 *
 * The figures model V8 on 64-bit Node without pointer compression: a sequential one-byte string is
 * a 16-byte header plus its bytes rounded up to 8; a Map entry costs its three words plus its share
 * of the bucket array and spare capacity. They were calibrated against `process.memoryUsage()`
 * deltas (see bench/engine/memory.ts) so the total tracks real heap use within about 10%.
 */

import { getHeapStatistics } from 'node:v8';

/**
 * Share of V8's old-generation limit that the server's default `maxmemory` takes. The keyspace estimate tracks
 * live heap closely (see README), so the rest is headroom for garbage between collections, requests
 * being parsed (values are heap strings) and the collector itself: with it the process evicts
 * instead of dying at `FATAL ERROR: Reached heap limit`.
 */
export const DEFAULT_MAXMEMORY_HEAP_SHARE = 0.5;

/** The largest share of V8's old-generation limit `maxmemory` may be set to (a higher limit can kill the process). */
export const MAX_MAXMEMORY_HEAP_SHARE = 0.8;

/**
 * What V8's `heap_size_limit` reserves for the young generation on 64-bit Node 24 (three 64 MiB
 * semi-spaces), measured: `node --max-old-space-size=N` reports N + 192 MiB for every N. Long-lived
 * keys live in the old generation, so the limits below are shares of the rest.
 */
export const YOUNG_GENERATION_RESERVE = 192 * 1024 * 1024;

/** V8's heap size limit for this process (set with `node --max-old-space-size=MB`). */
export function heapSizeLimit(): number {
  return getHeapStatistics().heap_size_limit;
}

/** The old generation's limit: where `FATAL ERROR: Reached heap limit` happens. */
export function oldGenerationLimit(): number {
  const total = heapSizeLimit();
  return total > 2 * YOUNG_GENERATION_RESERVE ? total - YOUNG_GENERATION_RESERVE : Math.floor(total / 2);
}

/** The server's default `maxmemory`: {@link DEFAULT_MAXMEMORY_HEAP_SHARE} of the old generation's limit. */
export function defaultMaxmemory(): number {
  return Math.floor(oldGenerationLimit() * DEFAULT_MAXMEMORY_HEAP_SHARE);
}

/** The highest `maxmemory` the server accepts: {@link MAX_MAXMEMORY_HEAP_SHARE} of the old generation's limit. */
export function maxmemoryCeiling(): number {
  return Math.floor(oldGenerationLimit() * MAX_MAXMEMORY_HEAP_SHARE);
}

/**
 * Why `maxmemory` cannot be `bytes` (over {@link maxmemoryCeiling}), or null when it can. The text
 * names the fix: lower the limit or give Node a bigger heap.
 */
export function maxmemoryProblem(bytes: number): string | null {
  const ceiling = maxmemoryCeiling();
  if (bytes <= ceiling) return null;
  return (
    `maxmemory ${formatBytes(bytes)} is above ${MAX_MAXMEMORY_HEAP_SHARE * 100}% of the V8 old-generation ` +
    `limit (${formatBytes(oldGenerationLimit())}), so the process could die before evicting: lower it to at most ` +
    `${formatBytes(ceiling)} or start node with a larger --max-old-space-size`
  );
}

/** Human-readable bytes the way INFO's `*_human` fields print them (`1.50G`, `12.00M`). */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)}G`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(2)}M`;
  if (n >= 1024) return `${(n / 1024).toFixed(2)}K`;
  return `${n}B`;
}

/** Per-slot bytes of the slot arrays (key and value cells of `kv`: 8 each; kind 1; expiry cell 4). Access stamps add 4 when on. */
export const SLOT_ARRAY_BYTES = 21;

/**
 * Per-entry bytes outside the strings: the key index's share (key-index.ts: one 4-byte cell in a
 * table kept 3/8 to 3/4 full, 5.3–10.7 bytes per key; 8 is the middle).
 */
export const ENTRY_OVERHEAD_BYTES = 8;

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
