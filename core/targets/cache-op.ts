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

/**
 * Mark the key's value stale (soft invalidation), only if `version` is newer than what the key holds:
 * the value stays (clients with stale-while-revalidate serve it while one caller reloads; others treat
 * it as a miss), the key's version becomes `version` and its fill lease is cancelled. On an absent key
 * it is an invalidate. See docs/soft-invalidation-and-tags.md.
 */
export interface SoftInvalidateOp {
  kind: 'softInvalidate';
  key: string;
  version: string;
}

/**
 * Invalidate every entry tagged with `tag` (entries name their tags at fill/write time), fenced by
 * the tag's epoch and each entry's recorded tag version. See docs/soft-invalidation-and-tags.md.
 */
export interface InvalidateTagOp {
  kind: 'invalidateTag';
  tag: string;
  version: string;
  /**
   * Mark the entries stale instead of removing them (a rule's `soft-invalidate` action): clients with
   * stale-while-revalidate keep serving them while one caller reloads. @default false
   */
  soft?: boolean;
}

/** One cache operation. */
export type CacheOp = InvalidateOp | RefreshOp | InvalidatePrefixOp | SoftInvalidateOp | InvalidateTagOp;

/** The op kinds, for counting (replay summary, metrics labels). */
export const OP_KINDS = [
  'refresh',
  'invalidate',
  'invalidatePrefix',
  'softInvalidate',
  'invalidateTag',
] as const;

/** What an op names: its key, prefix or tag (for messages and tests). */
export function opSubject(op: CacheOp): string {
  if (op.kind === 'invalidateTag') return op.tag;
  if (op.kind === 'invalidatePrefix') return op.prefix;
  return op.key;
}

/** The name an op is coalesced under: its key, or for tag/prefix ops a name no key can take. */
export function opSlotName(op: CacheOp): string {
  if (op.kind === 'invalidateTag') return `\u0000tag\u0000${op.tag}`;
  if (op.kind === 'invalidatePrefix') return `\u0000prefix\u0000${op.prefix}`;
  return op.key;
}
