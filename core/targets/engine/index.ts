/**
 * `cdc-cache/targets/engine`: the in-process engine target and its fill- and shard-lease stores.
 * Imports engine modules directly, never engine/index.ts (its RESP server would bloat Lambda bundles).
 */
export { type EngineLike, engineLeaseStore } from './engine-fill-lease-store.ts';
export { engineShardLeaseStore, type LeaseEngineLike } from './engine-shard-lease-store.ts';
export {
  applyToEngine,
  createEngineTarget,
  type EngineTarget,
  type EngineTargetOptions,
} from './engine-target.ts';
