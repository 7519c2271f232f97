/**
 * Key names and checkpoint encoding shared by every backend's shard-lease store (engine in-process,
 * engine over RESP, Valkey standalone or cluster), so two backends never disagree on where a lease
 * or checkpoint lives.
 *
 * Keys (all under the reserved `__cdc:` prefix, scoped by the stream ARN — or the table name when
 * no ARN is known — so two streams never collide; `S` = scope, `ID` = shard id):
 * - `__cdc:lease:{S:ID}` — the lease: a lock key whose value is the owner (worker id), with a PX
 *   TTL set by the server, so expiry follows the server's clock, never a comparison of host clocks.
 * - `__cdc:ckpt:{S:ID}` — the checkpoint, a JSON string `{"sequenceNumber":"…","finished":true}`
 *   (`"skipped":true` too for a shard closed before a first `--start LATEST` reached it),
 *   without a TTL (it never expires). Run the target with `noeviction` or a `volatile-*` maxmemory
 *   policy: under `allkeys-*` a checkpoint can be evicted, and the shard then restarts at the start
 *   position — re-applied (idempotent) with TRIM_HORIZON, but with `--start LATEST` the records
 *   between the lost checkpoint and "now" are skipped. On the engine over RESP an evicted epoch key
 *   makes the next holder's checkpoints fenced until its epoch catches up.
 * - `__cdc:done:{S}` — a hash whose fields are the shard ids marked finished (what `finished()`
 *   reads with one HKEYS, in a cluster too; the in-process engine keeps a JSON array string). It is
 *   written after the checkpoint; should a worker die between the two, `checkpoint()` of a finished
 *   shard adds the field again (self-repair).
 * - `__cdc:epoch:{S:ID}` (engine over RESP only) — a counter bumped by every new lease.
 * - `__cdc:worker:{S}:W` and `__cdc:workers:{S}` — worker heartbeats for balancing
 *   (resp/resp-worker-leases.ts; the in-process engine keeps the list as a JSON array string).
 *
 * The lease key and the checkpoint share the hash tag `{S:ID}`, so they live in one cluster slot and
 * one Lua script checks the holder and writes the checkpoint atomically.
 */
import { TargetError } from '../errors.ts';
import type { ShardCheckpoint } from './shard-lease-store.ts';

/** The key names of one shard (see the module comment). */
export interface ShardKeys {
  lease: string;
  checkpoint: string;
  epoch: string;
}

/** The keys of shard `shardId` of stream (or table) `scope`. */
export function shardKeys(scope: string, shardId: string): ShardKeys {
  const tag = `{${scope}:${shardId}}`;
  return { lease: `__cdc:lease:${tag}`, checkpoint: `__cdc:ckpt:${tag}`, epoch: `__cdc:epoch:${tag}` };
}

/** The hash of finished shard ids of stream (or table) `scope`. */
export function finishedKey(scope: string): string {
  return `__cdc:done:{${scope}}`;
}

/** The heartbeat key of worker `owner` of stream (or table) `scope`. */
export function workerKey(scope: string, owner: string): string {
  return `__cdc:worker:{${scope}}:${owner}`;
}

/** The hash of workers of stream (or table) `scope`. */
export function workersKey(scope: string): string {
  return `__cdc:workers:{${scope}}`;
}

/** Rejects an empty scope (every key would then be shared by all streams). */
export function checkShardScope(scope: string): void {
  if (scope === '')
    throw new TargetError('lease store: empty scope (give the stream ARN or table)', { retriable: false });
}

/** Parses a stored checkpoint (null/undefined: nothing stored); `where` names the key in errors. */
export function parseCheckpoint(text: string | null | undefined, where: string): ShardCheckpoint {
  if (text === null || text === undefined) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new TargetError(`lease store: ${where} is not JSON (${(cause as Error).message})`, {
      retriable: false,
      cause,
    });
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const c: ShardCheckpoint = {};
  if (typeof o.sequenceNumber === 'string') c.sequenceNumber = o.sequenceNumber;
  if (o.finished === true) c.finished = true;
  if (o.skipped === true) c.skipped = true;
  return c;
}

/** The fields of `c` that a write sets (a checkpoint write merges into what is stored). */
export function checkpointPatch(c: ShardCheckpoint): ShardCheckpoint {
  const p: ShardCheckpoint = {};
  if (c.sequenceNumber !== undefined) p.sequenceNumber = c.sequenceNumber;
  if (c.finished) p.finished = true;
  if (c.skipped) p.skipped = true;
  return p;
}
