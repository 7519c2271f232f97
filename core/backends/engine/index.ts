/**
 * The embedded-engine backend (`cdc-cache/targets/engine`): the CacheTarget over an in-process cache
 * engine, its fill-lease store (the app-side client) and its shard-lease store (the DynamoDB
 * poller's `--lease-store target`), both also served by the target as `fillLeases()` /
 * `shardLeases(scope)`.
 *
 * Bundle size: these modules import the engine's own modules, never engine/index.ts, whose RESP
 * server and CLI (~95 KB, command tables that run at load) a bundler cannot drop from a Lambda bundle.
 */
export { type EngineLike, engineLeaseStore } from './engine-fill-lease-store.ts';
export { engineShardLeaseStore, type LeaseEngineLike } from './engine-shard-lease-store.ts';
export {
  applyToEngine,
  createEngineTarget,
  type EngineTarget,
  type EngineTargetOptions,
} from './engine-target.ts';
