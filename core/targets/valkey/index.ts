/** `cdc-cache/targets/valkey`: the Valkey target (standalone or cluster) and its fill- and shard-lease stores. */
export { type ValkeyLeaseStoreOptions, valkeyLeaseStore } from './valkey-fill-lease-store.ts';
export { LEASE_SCRIPTS, valkeyShardLeaseStore } from './valkey-shard-lease-store.ts';
export { createValkeyTarget, type ValkeyTarget, type ValkeyTargetOptions } from './valkey-target.ts';
