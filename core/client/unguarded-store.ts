/**
 * TEST/DIAGNOSTIC ONLY: a FillLeaseStore with leases switched off. Every `acquireLease` succeeds and a
 * fill is a plain write (no lease check, no version fence), so `getOrLoad` becomes plain
 * GET → load → SET. It exists so the consistency test can show that its check fails without leases
 * (a slow loader racing an invalidation then stores the old row). Never use it in production.
 */
import type { FillLeaseStore } from './fill-lease-store.ts';

/** Wraps `store` so that it takes no leases (see module comment). */
export function unguardedLeaseStore(store: FillLeaseStore): FillLeaseStore {
  return {
    kind: `${store.kind}-unguarded`,
    wakes: false,
    read: (key) => store.read(key),
    acquireLease: async () => 'unguarded',
    async fill(key, _token, value, ttlMs) {
      await store.write(key, value, ttlMs);
      return 'filled';
    },
    joinTags: (key, tags, memberTtlMs) => store.joinTags(key, tags, memberTtlMs),
    releaseLease: async () => {},
    waitForFill: (_key, timeoutMs) => new Promise((r) => setTimeout(r, timeoutMs)),
    write: (key, value, ttlMs, version, tags) => store.write(key, value, ttlMs, version, tags),
    invalidate: (key, version) => store.invalidate(key, version),
    invalidateTag: (tag, options) => store.invalidateTag(tag, options),
    close: () => store.close(),
    ...(store.nearTracker === undefined ? {} : { nearTracker: () => store.nearTracker!() }),
  };
}
