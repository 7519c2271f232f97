/**
 * The Valkey backend (`cdc-cache/targets/valkey`): the CacheTarget over Valkey standalone or cluster
 * (TLS, ACL user) through iovalkey, its fill-lease store and its shard-lease store, both also served
 * by the target as `fillLeases()` / `shardLeases(scope)`.
 */
export { type ValkeyLeaseStoreOptions, valkeyLeaseStore } from './valkey-fill-lease-store.ts';
export { LEASE_SCRIPTS, valkeyShardLeaseStore } from './valkey-shard-lease-store.ts';
export { createValkeyTarget, type ValkeyTarget, type ValkeyTargetOptions } from './valkey-target.ts';
