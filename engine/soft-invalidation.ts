/**
 * Soft invalidation and tag invalidation in the engine (docs/soft-invalidation-and-tags.md).
 *
 * - softInvalidate keeps the value, moves the key's version to the change's and marks the entry
 *   stale with it; fenced like invalidate (the key's version is as new → nothing changes). The
 *   mark is valid only while it equals the entry's version, so anything that moves the version on
 *   clears it; every write of the key, expiry, eviction and FLUSH delete it (engine-state.ts). On an
 *   absent key it is an invalidate (a tombstone).
 * - invalidateTag removes every entry that joined the tag and is not already current with the
 *   change (tags.ts), cancelling leases and waking waiters, so a fill racing it is rejected; a page
 *   at a time (invalidateTagPage), and with `soft` it marks them stale (at their own version) instead.
 */
import type { EngineState } from './engine-state.ts';
import type { TagEpochs } from './tags.ts';
import { invalidate, type VersionedOutcome } from './versioned-writes.ts';

/** Marks `key` stale at `version` unless it holds that version or a newer one. */
export function softInvalidate(
  core: EngineState,
  key: string,
  version: string,
  tombstoneTtlMs: number,
  now: number,
): VersionedOutcome {
  const ks = core.keyspace;
  const slot = ks.findLive(key, now);
  if (slot < 0) return invalidate(core, key, version, tombstoneTtlMs, now);
  const current = ks.versions.get(slot);
  if (current !== undefined && current >= version) return 'fenced';
  ks.versions.set(slot, version);
  core.staleMarks.set(key, version);
  if (core.leases.size !== 0) core.leases.cancel(key);
  if (core.waiters.size !== 0) core.waiters.wake(key, 'cancelled');
  if (core.listeners.active) core.listeners.emit({ type: 'invalidate', key, version });
  return 'applied';
}

/** True when `key` holds a value a soft invalidation marked stale (and nothing newer replaced). */
export function isStale(core: EngineState, key: string, now: number): boolean {
  if (core.staleMarks.size === 0) return false;
  const mark = core.staleMarks.get(key);
  if (mark === undefined) return false;
  const slot = core.keyspace.findLive(key, now);
  // A tag's soft invalidation marks an unversioned entry with '' (markStale).
  return slot >= 0 && (core.keyspace.versions.get(slot) ?? '') === mark;
}

/** What one page of a tag invalidation did (see {@link invalidateTagPage}). */
export interface TagPage {
  /** The change moved the tag's epoch on, or this page removed or marked an entry. */
  applied: boolean;
  /** The version the invalidation used (for an app-side one without a version: the one it took). */
  version: string;
  /** The keys this page removed (or, soft, marked stale). */
  keys: string[];
  /** Keys of the tag are still pending: call again (with `version`) for the next page. */
  more: boolean;
}

/** Pending keys processed per page of a tag invalidation by default. */
export const TAG_PAGE_SIZE = 1000;

/**
 * One bounded step of invalidating every entry tagged `tag` at `version` ('' = an app-side one
 * without a version: tags.ts `nextAppVersion`): the epoch step (fenced when the tag saw a change as
 * new), then at most `limit` pending keys, each removed (or with `soft` marked stale: the value stays,
 * served by stale-while-revalidate clients while one reloads) unless it is already current with the
 * change. Cancels their leases and wakes their waiters, so a fill racing it is rejected.
 */
export function invalidateTagPage(
  core: EngineState,
  tag: string,
  version: string,
  soft: boolean,
  limit: number,
  tombstoneTtlMs: number,
  now: number,
): TagPage {
  const bumped = core.tags.bump(tag, version, tombstoneTtlMs, now);
  const page = core.tags.page(tag, limit, tombstoneTtlMs, now, soft);
  for (const key of page.keys) {
    if (soft && markStale(core, key, now)) continue;
    if (!core.deleteKey(key, now)) {
      // No value (a load in flight): its lease goes, so its fill is rejected.
      if (core.leases.size !== 0) core.leases.cancel(key);
      if (core.waiters.size !== 0) core.waiters.wake(key, 'cancelled');
    }
    core.staleMarks.delete(key);
  }
  return {
    applied: bumped.applied || page.keys.length > 0,
    version: bumped.version,
    keys: page.keys,
    more: page.more,
  };
}

/** Marks a live `key` stale at its own version (a tag's soft invalidation); false when it has no value. */
function markStale(core: EngineState, key: string, now: number): boolean {
  const slot = core.keyspace.findLive(key, now);
  if (slot < 0) return false;
  const version = core.keyspace.versions.get(slot) ?? '';
  core.staleMarks.set(key, version);
  if (core.leases.size !== 0) core.leases.cancel(key);
  if (core.waiters.size !== 0) core.waiters.wake(key, 'cancelled');
  if (core.listeners.active) core.listeners.emit({ type: 'invalidate', key, version });
  return true;
}

/**
 * Invalidates every entry tagged `tag` (see module comment), all pages at once; fenced when the tag
 * saw a change as new and nothing was pending.
 */
export function invalidateTag(
  core: EngineState,
  tag: string,
  version: string,
  tombstoneTtlMs: number,
  now: number,
  soft = false,
): VersionedOutcome {
  let page = invalidateTagPage(core, tag, version, soft, TAG_PAGE_SIZE, tombstoneTtlMs, now);
  let applied = page.applied;
  while (page.more) {
    page = invalidateTagPage(core, tag, page.version, soft, TAG_PAGE_SIZE, tombstoneTtlMs, now);
    if (page.applied) applied = true;
  }
  return applied ? 'applied' : 'fenced';
}

/** Adds `key` to `tags` and answers their epochs (what a fill or write later passes back). */
export function joinTags(
  core: EngineState,
  key: string,
  tags: readonly string[],
  memberTtlMs: number,
  now: number,
): TagEpochs {
  const epochs = core.tags.join(key, tags, memberTtlMs, now);
  return tags.map((tag, i) => [tag, epochs[i]!] as const);
}
