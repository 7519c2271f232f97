/**
 * Binds a near cache to a cache client's store: picks the store's tracker (or, TEST ONLY with
 * `tracking: false`, an untracked reader) and starts it.
 */
import { TargetError } from '../../errors.ts';
import type { CacheClientListener } from '../events.ts';
import type { FillLeaseStore } from '../fill-lease-store.ts';
import type { NearCache } from './near-cache.ts';
import type { NearTracker } from './tracker.ts';

/** TEST ONLY: reads the store and never invalidates (only the near TTL cap bounds staleness). */
function untrackedReader(store: FillLeaseStore): NearTracker {
  return {
    kind: `${store.kind}-untracked`,
    read: (key) => store.read(key),
    start: (sink) => sink.up(),
    close: async () => {},
  };
}

/** Starts `near` over `store`'s tracker; fails when the store cannot keep a near cache true. */
export function attachNearCache(
  near: NearCache,
  store: FillLeaseStore,
  emit: CacheClientListener,
  emitsHits: boolean,
): NearCache {
  let tracker: NearTracker;
  if (near.options.tracking === false) tracker = untrackedReader(store);
  else if (store.nearTracker !== undefined) tracker = store.nearTracker();
  else {
    throw new TargetError(
      `cache client: a near cache needs a store that tracks changes; "${store.kind}" does not (use Valkey, the engine server or an in-process engine with listeners)`,
      { retriable: false },
    );
  }
  near.attach(tracker, emit, emitsHits);
  return near;
}
