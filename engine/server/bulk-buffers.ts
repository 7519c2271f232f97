/**
 * The buffers big bulks are received into (resp-parser.ts, bulks of BIG_BULK_BYTES and more): a
 * small process-wide pool, so a client sending one 150 KB SET after another reuses the same
 * memory instead of allocating (and later collecting) a fresh buffer per request.
 *
 * Why: the bulk is copied out into the value string as soon as it is complete, so its buffer is
 * free again at once. A fresh `Buffer.allocUnsafe(150002)` per request, filled and dropped,
 * measured ~200 µs of CPU per 150 KB value (copy and string included) against ~125 µs with one
 * reused buffer (session 6 micro-benchmark, 6,000 values). The pool is shared by all connections
 * (JavaScript runs one request at a time) and bounded: at most {@link POOL_MAX_BUFFERS} idle
 * buffers of at most {@link POOL_MAX_BYTES} each, so idle connections hold nothing and the pool
 * holds at most 8 MiB. Bigger buffers are freed at once (release-buffer.ts), as before.
 *
 * A pooled buffer may be longer than the bulk it receives and holds old bytes past what was
 * written: the parser tracks how many bytes it needs and reads only those.
 */
import { releaseBuffer } from './release-buffer.ts';

/** Idle buffers kept at most. */
export const POOL_MAX_BUFFERS = 16;
/** Longest buffer kept for reuse; sizes up to it are rounded up to {@link ROUND_BYTES}. */
export const POOL_MAX_BYTES = 512 * 1024;
/** Allocation granularity of poolable buffers (so nearby sizes can share a buffer). */
const ROUND_BYTES = 16 * 1024;

const pool: Buffer[] = [];

/** A buffer of at least `bytes` bytes (contents undefined), from the pool when one is long enough. */
export function takeBulkBuffer(bytes: number): Buffer {
  for (let i = pool.length - 1; i >= 0; i--) {
    const buf = pool[i]!;
    if (buf.length < bytes) continue;
    pool[i] = pool[pool.length - 1]!;
    pool.pop();
    return buf;
  }
  return Buffer.allocUnsafe(bytes <= POOL_MAX_BYTES ? Math.ceil(bytes / ROUND_BYTES) * ROUND_BYTES : bytes);
}

/** Gives back a buffer from {@link takeBulkBuffer} that nothing references any more. */
export function returnBulkBuffer(buf: Buffer): void {
  if (buf.length <= POOL_MAX_BYTES && pool.length < POOL_MAX_BUFFERS) pool.push(buf);
  else releaseBuffer(buf);
}

/** Idle buffers in the pool (for tests). */
export function pooledBulkBuffers(): number {
  return pool.length;
}
