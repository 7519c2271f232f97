/** `cdc-cache/targets/engine-remote`: the engine-over-RESP target and its fill- and shard-lease stores. */
export { engineRemoteLeaseStore } from './engine-remote-fill-lease-store.ts';
export { engineRemoteShardLeaseStore } from './engine-remote-shard-lease-store.ts';
export {
  createEngineRemoteTarget,
  type EngineRemoteTarget,
  type EngineRemoteTargetOptions,
} from './engine-remote-target.ts';
