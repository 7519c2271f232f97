/**
 * `--lease-store target`: shard leases and checkpoints kept in the cache target itself, so several
 * pollers on several hosts share a stream's shards without a shared disk. Each backend serves the
 * store as its `shardLeases(scope)` capability (core/targets/<backend>/*-shard-lease-store.ts, keys in
 * core/targets/shard-lease-keys.ts); a target without it is refused with the flag to use instead.
 */
import { TargetError } from '../../core/errors.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import type { ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';

/**
 * A ShardLeaseStore in `target` for the shards of stream (or table) `scope`. The target's connection
 * is shared, not owned.
 */
export function createTargetLeaseStore(target: CacheTarget, scope: string): ShardLeaseStore {
  if (target.shardLeases === undefined) {
    throw new TargetError(
      `lease store: target kind "${target.kind}" cannot hold leases; use --lease-store file`,
      { retriable: false },
    );
  }
  return target.shardLeases(scope);
}
