/**
 * The engine-over-RESP backend (`cdc-cache/targets/engine-remote`): the CacheTarget speaking the
 * engine's CACHE.* commands with iovalkey, its fill-lease store and its shard-lease store, both also
 * served by the target as `fillLeases()` / `shardLeases(scope)`.
 */
export { engineRemoteLeaseStore } from './engine-remote-fill-lease-store.ts';
export { engineRemoteShardLeaseStore } from './engine-remote-shard-lease-store.ts';
export {
  createEngineRemoteTarget,
  type EngineRemoteTarget,
  type EngineRemoteTargetOptions,
} from './engine-remote-target.ts';
