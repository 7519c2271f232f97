/**
 * CacheOps: what rules ask a cache target to do. Every op carries the version of the change that
 * produced it, so targets can fence (an older version never overwrites a newer one).
 */

/** Remove the key's value and leave a short-lived tombstone carrying `version`. */
export interface InvalidateOp {
  kind: 'invalidate';
  key: string;
  version: string;
}

/** Write `value` with a TTL, only if `version` is newer than what the key holds (value or tombstone). */
export interface RefreshOp {
  kind: 'refresh';
  key: string;
  /** The bytes readers expect under `key` (JSON text by default). */
  value: string;
  /** Time to live in milliseconds; 0 means no expiry. */
  ttlMs: number;
  version: string;
}

/** Invalidate every key starting with `prefix` (table truncate). */
export interface InvalidatePrefixOp {
  kind: 'invalidatePrefix';
  prefix: string;
  version: string;
}

/** One cache operation. */
export type CacheOp = InvalidateOp | RefreshOp | InvalidatePrefixOp;
