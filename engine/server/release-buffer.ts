/**
 * Returns a large Buffer's memory to the system now instead of at some later garbage collection.
 *
 * Why: a client that leaves in the middle of a 512 MB upload (or with a 50 MB reply queued) drops
 * the last reference to those bytes, but V8 frees an ArrayBuffer's backing store only when a
 * collection finds it dead, and an idle server may not collect for a long time: RSS stayed +500 MB
 * after such a client was gone. Detaching the ArrayBuffer (`transfer(0)`) frees the backing store
 * at once (large blocks are mmap'd, so RSS drops).
 *
 * Only for buffers the caller allocated itself and holds the only reference to: detaching empties
 * every view of that ArrayBuffer. Buffers under {@link RELEASE_MIN_BYTES} are left to the collector
 * (they may share Node's allocation pool, and they are cheap).
 */

/** Smallest buffer worth releasing eagerly; far above Node's Buffer pool size (64 KiB). */
export const RELEASE_MIN_BYTES = 1024 * 1024;

/** Frees `buf`'s memory now if it is large and owns its whole ArrayBuffer; afterwards it is empty. */
export function releaseBuffer(buf: Buffer): void {
  const ab = buf.buffer;
  if (ab.byteLength < RELEASE_MIN_BYTES || buf.byteOffset !== 0 || !(ab instanceof ArrayBuffer)) return;
  if (ab.detached) return;
  ab.transfer(0);
}
