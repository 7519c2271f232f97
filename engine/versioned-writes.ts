/**
 * Versioned writes (ARCHITECTURE.md §3), kept natively in the entry: a key's fencing version lives
 * in the keyspace beside its value. Versions are opaque byte strings compared in plain byte order
 * (the core adapters pass `versionSortKey` strings, whose byte order is version order).
 *
 * Rules:
 * - refreshIfNewer applies only when its version is greater than the key's (value or tombstone);
 *   equal or older → `'fenced'`, nothing changes. Applying cancels the key's lease.
 * - invalidate turns the value into a tombstone carrying its version for `tombstoneTtlMs` (0 = drop
 *   the key, no tombstone), cancels the lease, wakes waiters. Equal or older → `'fenced'`.
 * - invalidatePrefix tombstones every key under the prefix and leaves a prefix fence for
 *   `tombstoneTtlMs`, so an older refresh of a key that did not exist yet is fenced too.
 * - A plain write (SET) keeps the key's version, so fencing survives a cache-aside fill.
 */
import type { EngineState } from './engine-state.ts';
import { Kind, type KindValue } from './keyspace.ts';

/** What a versioned write did. */
export type VersionedOutcome = 'applied' | 'fenced';

/** The fencing version of `key` (value or tombstone), or null. */
export function versionOf(core: EngineState, key: string, now: number): string | null {
  const slot = core.keyspace.find(key, now);
  if (slot < 0) return null;
  return core.keyspace.versions.get(slot) ?? null;
}

function fencedByPrefix(core: EngineState, key: string, version: string, now: number): boolean {
  if (core.prefixFences.length === 0) return false;
  core.prefixFences = core.prefixFences.filter((f) => f.expiresAt >= now);
  return core.prefixFences.some((f) => key.startsWith(f.prefix) && f.version >= version);
}

/** Writes `value` (TTL `ttlMs`, 0 = none) only if `version` is newer than the key's. */
export function refreshIfNewer(
  core: EngineState,
  key: string,
  kind: KindValue,
  value: string,
  ttlMs: number,
  version: string,
  now: number,
): VersionedOutcome {
  const ks = core.keyspace;
  const slot = ks.find(key, now);
  if (slot >= 0) {
    const current = ks.versions.get(slot);
    if (current !== undefined && current >= version) return 'fenced';
  } else if (fencedByPrefix(core, key, version, now)) {
    return 'fenced';
  }
  core.ensureMemory();
  if (core.leases.size !== 0) core.leases.cancel(key);
  const written = core.writeString(key, kind, value, ttlMs > 0 ? now + ttlMs : 0, now);
  ks.versions.set(written, version);
  return 'applied';
}

/** Replaces the key's value with a tombstone carrying `version` (unless it holds a newer version). */
export function invalidate(
  core: EngineState,
  key: string,
  version: string,
  tombstoneTtlMs: number,
  now: number,
): VersionedOutcome {
  const ks = core.keyspace;
  let slot = ks.find(key, now);
  if (slot >= 0) {
    const current = ks.versions.get(slot);
    if (current !== undefined && current >= version) return 'fenced';
  } else if (fencedByPrefix(core, key, version, now)) {
    return 'fenced';
  }
  if (core.leases.size !== 0) core.leases.cancel(key);
  if (tombstoneTtlMs <= 0) {
    if (slot >= 0) ks.remove(slot, 'delete');
  } else {
    core.ensureMemory();
    if (slot < 0) slot = ks.insert(key, Kind.Tombstone, '', now + tombstoneTtlMs);
    else {
      ks.replace(slot, Kind.Tombstone, '');
      ks.setExpire(slot, now + tombstoneTtlMs);
    }
    ks.versions.set(slot, version);
  }
  if (core.waiters.size !== 0) core.waiters.wake(key, 'cancelled');
  if (core.listeners.active) core.listeners.emit({ type: 'invalidate', key, version });
  return 'applied';
}

/** Invalidates every key starting with `prefix`; returns how many keys were tombstoned. */
export function invalidatePrefix(
  core: EngineState,
  prefix: string,
  version: string,
  tombstoneTtlMs: number,
  now: number,
): number {
  const ks = core.keyspace;
  const matching: string[] = [];
  for (const key of ks.index.keys()) if (key.startsWith(prefix)) matching.push(key);
  let n = 0;
  for (const key of matching) if (invalidate(core, key, version, tombstoneTtlMs, now) === 'applied') n++;
  for (const key of core.leases.cancelPrefix(prefix)) core.waiters.wake(key, 'cancelled');
  if (tombstoneTtlMs > 0) {
    core.prefixFences = core.prefixFences.filter((f) => f.expiresAt >= now);
    core.prefixFences.push({ prefix, version, expiresAt: now + tombstoneTtlMs });
  }
  return n;
}
