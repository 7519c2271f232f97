/**
 * A ShardLeaseStore in the cache target itself (engine in-process, engine over RESP, Valkey standalone or
 * cluster), so several pollers on several hosts share a stream's shards without a shared disk.
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
 *   reads with one HKEYS, in a cluster too; the in-process engine keeps a JSON array string). It is written after the checkpoint; should a worker die
 *   between the two, `checkpoint()` of a finished shard adds the field again (self-repair).
 * - `__cdc:epoch:{S:ID}` (engine over RESP only) — a counter bumped by every new lease (see below).
 * - `__cdc:worker:{S}:W` and `__cdc:workers:{S}` — worker heartbeats for balancing
 *   (core/backends/resp/resp-worker-leases.ts; the in-process engine keeps the list as a JSON array string).
 *
 * The lease key and the checkpoint share the hash tag `{S:ID}`, so they live in one cluster slot and
 * one Lua script checks the holder and writes the checkpoint atomically.
 *
 * Per kind:
 * - `valkey` / `valkey-cluster`: acquire is `SET NX PX` (or a PEXPIRE when the lease is already
 *   ours), renew/release/setCheckpoint are Lua compare-and-set scripts (EVAL: only the holder
 *   writes). Checkpoint fields are merged in the script.
 * - `engine` (in-process): the engine's lock keys (acquireLock/extendLock/releaseLock); a check and
 *   a write run in one synchronous step, so they are atomic.
 * - `engine-remote`: the engine serves no EVAL, so the lease is `CACHE.LOCK`/`CACHE.EXTEND`/
 *   `CACHE.UNLOCK` (token-compared, atomic), and a checkpoint is written with `CACHE.REFRESH` fenced
 *   by the version `<epoch>.<n>`: a new lease takes a higher epoch (INCR), so once the new holder has
 *   written, a late write from a former holder (one that passed the holder check and then stalled
 *   past its lease) is fenced by the engine instead of moving the checkpoint.
 */
import type { Cluster, Valkey } from 'iovalkey';
import type { CacheTarget } from '../../core/backends/cache-target.ts';
import { valkeyWorkerCapabilities, workerKey } from '../../core/backends/resp/resp-worker-leases.ts';
import type { ShardCheckpoint, ShardLeaseStore } from '../../core/backends/shard-lease-store.ts';
import { toTargetError } from '../../core/backends/valkey/valkey-runner.ts';
import { TargetError } from '../../core/errors.ts';
import { versionSortKey } from '../../core/event/version.ts';

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

/** The engine methods the in-process store uses (engine/engine.ts `Engine`, typed structurally). */
export interface LeaseEngineLike {
  get(key: string): string | null;
  set(key: string, value: string, options?: { ttlMs?: number }): boolean;
  acquireLock(key: string, token: string, ttlMs: number): boolean;
  extendLock(key: string, token: string, ttlMs: number): boolean;
  releaseLock(key: string, token: string): boolean;
  delete(key: string): boolean;
}

function parseCheckpoint(text: string | null | undefined, where: string): ShardCheckpoint {
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
function patch(c: ShardCheckpoint): ShardCheckpoint {
  const p: ShardCheckpoint = {};
  if (c.sequenceNumber !== undefined) p.sequenceNumber = c.sequenceNumber;
  if (c.finished) p.finished = true;
  if (c.skipped) p.skipped = true;
  return p;
}

/** Lua sources of the Valkey store (KEYS[1] = lease, KEYS[2] = checkpoint; ARGV[1] = owner). */
export const LEASE_SCRIPTS = {
  acquire: `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
  renew: `if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`,
  release: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  /** ARGV[1] = thief, ARGV[2] = ttl, ARGV[3] = victim. */
  steal: `local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return 1 end
if cur ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
  setCheckpoint: `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local cur = redis.call('GET', KEYS[2])
local t = {}
if cur then t = cjson.decode(cur) end
for k, v in pairs(cjson.decode(ARGV[2])) do t[k] = v end
redis.call('SET', KEYS[2], cjson.encode(t))
return 1`,
} as const;

function valkeyStore(client: Valkey | Cluster, scope: string): ShardLeaseStore {
  const done = finishedKey(scope);
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toTargetError(error, `lease store ${what}`);
    }
  };
  const evalLease = (lua: string, keys: string[], args: string[]) =>
    call('script', async () => Number(await client.eval(lua, keys.length, ...keys, ...args)));
  return {
    ...valkeyWorkerCapabilities(client, scope, (id) => shardKeys(scope, id).lease),
    async steal(id, from, owner, ttlMs) {
      return (
        (await evalLease(LEASE_SCRIPTS.steal, [shardKeys(scope, id).lease], [owner, String(ttlMs), from])) ===
        1
      );
    },
    async acquire(id, owner, ttlMs) {
      return (
        (await evalLease(LEASE_SCRIPTS.acquire, [shardKeys(scope, id).lease], [owner, String(ttlMs)])) === 1
      );
    },
    async renew(id, owner, ttlMs) {
      return (
        (await evalLease(LEASE_SCRIPTS.renew, [shardKeys(scope, id).lease], [owner, String(ttlMs)])) === 1
      );
    },
    async release(id, owner) {
      await evalLease(LEASE_SCRIPTS.release, [shardKeys(scope, id).lease], [owner]);
    },
    async checkpoint(id) {
      const k = shardKeys(scope, id);
      const c = parseCheckpoint(await call('GET', () => client.get(k.checkpoint)), k.checkpoint);
      if (c.finished) await call('HSET', () => client.hset(done, id, '1'));
      return c;
    },
    async setCheckpoint(id, owner, c) {
      const k = shardKeys(scope, id);
      const ok =
        (await evalLease(
          LEASE_SCRIPTS.setCheckpoint,
          [k.lease, k.checkpoint],
          [owner, JSON.stringify(patch(c))],
        )) === 1;
      if (ok && c.finished) await call('HSET', () => client.hset(done, id, '1'));
      return ok;
    },
    async finished() {
      return new Set(await call('HKEYS', () => client.hkeys(done)));
    },
  };
}

function engineStore(engine: LeaseEngineLike, scope: string): ShardLeaseStore {
  const done = finishedKey(scope);
  const finishedIds = (): string[] => {
    const v = engine.get(done);
    return v === null ? [] : (JSON.parse(v) as string[]);
  };
  const markFinished = (id: string) => {
    const ids = finishedIds();
    if (!ids.includes(id)) engine.set(done, JSON.stringify([...ids, id]));
  };
  const all = `__cdc:workers:{${scope}}`;
  const workerIds = (): string[] => {
    const v = engine.get(all);
    return v === null ? [] : (JSON.parse(v) as string[]);
  };
  return {
    async heartbeat(owner, ttlMs) {
      engine.set(workerKey(scope, owner), '1', { ttlMs });
      const ids = workerIds();
      if (!ids.includes(owner)) engine.set(all, JSON.stringify([...ids, owner]));
    },
    async leave(owner) {
      engine.delete(workerKey(scope, owner));
      engine.set(all, JSON.stringify(workerIds().filter((w) => w !== owner)));
    },
    async liveWorkers() {
      const ids = workerIds();
      const live = ids.filter((w) => engine.get(workerKey(scope, w)) !== null);
      if (live.length !== ids.length) engine.set(all, JSON.stringify(live));
      return live.sort();
    },
    async holders(ids) {
      const out = new Map<string, string>();
      for (const id of ids) {
        const o = engine.get(shardKeys(scope, id).lease);
        if (o !== null) out.set(id, o);
      }
      return out;
    },
    async steal(id, from, owner, ttlMs) {
      const { lease } = shardKeys(scope, id);
      const cur = engine.get(lease);
      if (cur === owner) return true;
      if (cur !== from) return false;
      engine.releaseLock(lease, from);
      return engine.acquireLock(lease, owner, ttlMs);
    },
    async acquire(id, owner, ttlMs) {
      const { lease } = shardKeys(scope, id);
      return engine.acquireLock(lease, owner, ttlMs) || engine.extendLock(lease, owner, ttlMs);
    },
    async renew(id, owner, ttlMs) {
      return engine.extendLock(shardKeys(scope, id).lease, owner, ttlMs);
    },
    async release(id, owner) {
      engine.releaseLock(shardKeys(scope, id).lease, owner);
    },
    async checkpoint(id) {
      const k = shardKeys(scope, id);
      const c = parseCheckpoint(engine.get(k.checkpoint), k.checkpoint);
      if (c.finished) markFinished(id);
      return c;
    },
    async setCheckpoint(id, owner, c) {
      const k = shardKeys(scope, id);
      if (engine.get(k.lease) !== owner) return false;
      const next = { ...parseCheckpoint(engine.get(k.checkpoint), k.checkpoint), ...patch(c) };
      engine.set(k.checkpoint, JSON.stringify(next));
      if (next.finished) markFinished(id);
      return true;
    },
    async finished() {
      return new Set(finishedIds());
    },
  };
}

function engineRemoteStore(client: Valkey, scope: string): ShardLeaseStore {
  const done = finishedKey(scope);
  /** Epoch of each lease this store holds and its write counter. */
  const held = new Map<string, { epoch: number; n: number }>();
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toTargetError(error, `lease store ${what}`);
    }
  };
  const newEpoch = async (id: string) => {
    const epoch = await call('INCR', () => client.incr(shardKeys(scope, id).epoch));
    held.set(id, { epoch, n: 0 });
  };
  const acquire = async (id: string, owner: string, ttlMs: number): Promise<boolean> => {
    const { lease } = shardKeys(scope, id);
    if ((await call('CACHE.LOCK', () => client.call('CACHE.LOCK', lease, owner, String(ttlMs)))) === 1) {
      await newEpoch(id);
      return true;
    }
    if ((await call('CACHE.EXTEND', () => client.call('CACHE.EXTEND', lease, owner, String(ttlMs)))) !== 1)
      return false;
    if (!held.has(id)) await newEpoch(id);
    return true;
  };
  return {
    ...valkeyWorkerCapabilities(client, scope, (id) => shardKeys(scope, id).lease),
    acquire,
    async steal(id, from, owner, ttlMs) {
      // No EVAL on the engine: unlock the victim's token, then lock ours. Between the two anyone may
      // take the free lease (then the steal fails); the victim's checkpoints are fenced either way.
      const { lease } = shardKeys(scope, id);
      const cur = await call('GET', () => client.get(lease));
      if (cur === owner) return true;
      if (cur !== from) return false;
      await call('CACHE.UNLOCK', () => client.call('CACHE.UNLOCK', lease, from));
      return acquire(id, owner, ttlMs);
    },
    async renew(id, owner, ttlMs) {
      const { lease } = shardKeys(scope, id);
      const ok =
        (await call('CACHE.EXTEND', () => client.call('CACHE.EXTEND', lease, owner, String(ttlMs)))) === 1;
      if (!ok) held.delete(id);
      return ok;
    },
    async release(id, owner) {
      held.delete(id);
      await call('CACHE.UNLOCK', () => client.call('CACHE.UNLOCK', shardKeys(scope, id).lease, owner));
    },
    async checkpoint(id) {
      const k = shardKeys(scope, id);
      const c = parseCheckpoint(await call('GET', () => client.get(k.checkpoint)), k.checkpoint);
      if (c.finished) await call('HSET', () => client.hset(done, id, '1'));
      return c;
    },
    async setCheckpoint(id, owner, c) {
      const k = shardKeys(scope, id);
      const h = held.get(id);
      if (h === undefined) return false;
      const [lease, current] = await call('GET', async () => {
        const replies = (await client.pipeline().get(k.lease).get(k.checkpoint).exec()) ?? [];
        for (const [err] of replies) if (err) throw err;
        return [replies[0]?.[1], replies[1]?.[1]] as [string | null, string | null];
      });
      if (lease !== owner) {
        held.delete(id);
        return false;
      }
      const next = { ...parseCheckpoint(current, k.checkpoint), ...patch(c) };
      h.n++;
      const version = versionSortKey(`${h.epoch}.${h.n}`);
      const reply = await call('CACHE.REFRESH', () =>
        client.call('CACHE.REFRESH', k.checkpoint, JSON.stringify(next), '0', version),
      );
      if (reply === 'fenced') {
        held.delete(id);
        return false;
      }
      if (next.finished) await call('HSET', () => client.hset(done, id, '1'));
      return true;
    },
    async finished() {
      return new Set(await call('HKEYS', () => client.hkeys(done)));
    },
  };
}

/**
 * A ShardLeaseStore in `target` for the shards of stream (or table) `scope`. Target kinds: `engine`,
 * `engine-remote`, `valkey`, `valkey-cluster` (the same way core/client/store-for-target.ts
 * reaches each target's engine or connection). The target's connection is shared, not owned.
 */
export function createTargetLeaseStore(target: CacheTarget, scope: string): ShardLeaseStore {
  if (scope === '')
    throw new TargetError('lease store: empty scope (give the stream ARN or table)', { retriable: false });
  switch (target.kind) {
    case 'engine':
      return engineStore((target as CacheTarget & { engine: LeaseEngineLike }).engine, scope);
    case 'engine-remote':
      return engineRemoteStore((target as CacheTarget & { client: Valkey }).client, scope);
    case 'valkey':
    case 'valkey-cluster':
      return valkeyStore((target as CacheTarget & { client: Valkey | Cluster }).client, scope);
    default:
      throw new TargetError(
        `lease store: target kind "${target.kind}" cannot hold leases; use --lease-store file`,
        { retriable: false },
      );
  }
}
