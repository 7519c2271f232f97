/**
 * Soft invalidation and tag invalidation in the engine (docs/soft-invalidation-and-tags.md).
 *
 * - softInvalidate keeps the value, moves the key's version to the change's and marks the entry
 *   stale with it; fenced like invalidate (the key's version is as new → nothing changes). The
 *   mark is valid only while it equals the entry's version, so anything that moves the version on
 *   clears it; every write of the key, expiry, eviction and FLUSH delete it (engine-state.ts). On an
 *   absent key it is an invalidate (a tombstone).
 * - invalidateTag removes every entry that joined the tag and is not already current with the
 *   change (tags.ts), cancelling leases and waking waiters, so a fill racing it is rejected.
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
  return slot >= 0 && core.keyspace.versions.get(slot) === mark;
}

/** Invalidates every entry tagged `tag` (see module comment); fenced when the tag saw a change as new. */
export function invalidateTag(
  core: EngineState,
  tag: string,
  version: string,
  tombstoneTtlMs: number,
  now: number,
): VersionedOutcome {
  const keys = core.tags.invalidate(tag, version, tombstoneTtlMs, now);
  if (keys === null) return 'fenced';
  for (const key of keys) {
    if (!core.deleteKey(key, now)) {
      // No value (a load in flight): its lease goes, so its fill is rejected.
      if (core.leases.size !== 0) core.leases.cancel(key);
      if (core.waiters.size !== 0) core.waiters.wake(key, 'cancelled');
    }
    core.staleMarks.delete(key);
  }
  return 'applied';
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
