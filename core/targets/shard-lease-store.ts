/**
 * The ShardLeaseStore seam: shard leases and checkpoints of the DynamoDB Streams poller. A worker reads a shard only while it holds the shard's lease; a
 * lease has a time to live and is renewed while the worker reads, so when a worker dies its shards
 * are taken over once their leases expire. A checkpoint (the sequence number of the last record
 * whose ops the target acknowledged, or `finished`) is written only by the lease holder, so a worker
 * that lost its lease (paused too long) cannot move a checkpoint another worker now owns.
 *
 * Balancing (consumers/dynamodb/lease-balancer.ts) needs three more capabilities, which every store serves: worker
 * heartbeats (who is alive, so each worker computes its fair share), the holders of a stream's
 * leases, and a conditional steal (the lease moves only if the victim still holds it).
 *
 * Implementations: in the cache target, one per backend (the `shardLeases(scope)` capability of
 * CacheTarget: core/targets/<backend>/*-shard-lease-store.ts), and in consumers/dynamodb/:
 * file-lease-store.ts (a directory) and dynamodb-lease-store.ts (a DynamoDB table, the KCL
 * convention). The seam lives here, beside CacheTarget, because the backends implement it.
 */

/** The stored state of one shard. */
export interface ShardCheckpoint {
  /** Last acknowledged record; undefined = nothing read yet. */
  sequenceNumber?: string;
  /** The shard is closed and fully acknowledged: its children may start. */
  finished?: boolean;
  /**
   * Set with `finished` when the shard was already closed when this consumer first reached it at
   * `--start LATEST` and was never read (it held only the past). Its children start at LATEST too;
   * children of a shard that was read start at TRIM_HORIZON.
   */
  skipped?: boolean;
}

/** Where leases and checkpoints live. */
export interface ShardLeaseStore {
  /** Takes the lease when free, expired, or already ours; true when we hold it now. */
  acquire(shardId: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends our lease; false when it is no longer ours (stop reading the shard). */
  renew(shardId: string, owner: string, ttlMs: number): Promise<boolean>;
  release(shardId: string, owner: string): Promise<void>;
  checkpoint(shardId: string): Promise<ShardCheckpoint>;
  /** Writes a checkpoint if we hold the lease; false (nothing written) when we do not. */
  setCheckpoint(shardId: string, owner: string, checkpoint: ShardCheckpoint): Promise<boolean>;
  /** Shards marked finished. */
  finished(): Promise<Set<string>>;
  /** Records that worker `owner` is alive for the next `ttlMs` (workers call it every scan). */
  heartbeat(owner: string, ttlMs: number): Promise<void>;
  /** Removes `owner`'s heartbeat at once (a worker stopping cleanly). */
  leave(owner: string): Promise<void>;
  /** Workers whose heartbeat has not expired, sorted. */
  liveWorkers(): Promise<string[]>;
  /** The holder of each of `shardIds` whose lease has not expired; free shards are absent. */
  holders(shardIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Moves the lease of `shardId` from `from` to `owner` only while `from` still holds it; true when
   * `owner` holds it now. `from` learns at its next renew (false) and stops reading.
   */
  steal(shardId: string, from: string, owner: string, ttlMs: number): Promise<boolean>;
}
