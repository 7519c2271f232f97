/**
 * The app-side cache client: cache-aside with leases and stampede protection, write-through,
 * invalidation, codecs and events, over the same targets the CDC pipeline writes to.
 */
export {
  CACHE_CLIENT_DEFAULTS,
  type CacheClient,
  type CacheClientOptions,
  createCacheClient,
  type LoadOptions,
  type Writer,
} from './cache-client.ts';
export {
  type Codec,
  type CompressedJsonCodecOptions,
  type CompressionAlgorithm,
  compressedJsonCodec,
  jsonCodec,
  textCodec,
  zstdAvailable,
} from './codec.ts';
export type { CacheClientEvent, CacheClientListener, StaleReason } from './events.ts';
export type {
  FillLeaseStore,
  FillLeaseStoreOptions,
  FillOutcome,
  StoredEntry,
  TagEpochs,
  TagInvalidateOptions,
  TagInvalidateResult,
} from './fill-lease-store.ts';
export {
  createNearCache,
  NEAR_CACHE_DEFAULTS,
  NearCache,
  type NearCacheOptions,
  type NearCacheStats,
} from './near-cache/near-cache.ts';
export type { NearTracker, TrackingSink } from './near-cache/tracker.ts';

import type { FillLeaseStore } from './fill-lease-store.ts';

/** @deprecated Renamed {@link FillLeaseStore} (the fill-lease seam; shard leases are another concept). */
export type LeaseStore = FillLeaseStore;

// Each backend's fill-lease store, also reachable as its target's `fillLeases()` (leaseStoreFor).
export { type EngineLike, engineLeaseStore } from '../targets/engine/engine-fill-lease-store.ts';
export { engineRemoteLeaseStore } from '../targets/engine-remote/engine-remote-fill-lease-store.ts';
export {
  type ValkeyLeaseStoreOptions,
  valkeyLeaseStore,
} from '../targets/valkey/valkey-fill-lease-store.ts';
export { leaseStoreFor } from './store-for-target.ts';
