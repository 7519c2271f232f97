/**
 * The shard-lease store kept in an in-process engine (keys: ../shard-lease-keys.ts). Leases are the
 * engine's lock keys (acquireLock/extendLock/releaseLock); a check and a write run in one
 * synchronous step, so they are atomic. The finished set and the worker list are JSON array strings
 * (the store uses only the engine's string and lock methods). Typed structurally, like the fill-lease
 * store, so the store itself imports nothing from engine/.
 */
import {
  checkpointPatch,
  checkShardScope,
  finishedKey,
  parseCheckpoint,
  shardKeys,
  workerKey,
  workersKey,
} from '../shard-lease-keys.ts';
import type { ShardLeaseStore } from '../shard-lease-store.ts';

/** The engine methods the in-process store uses (engine/engine.ts `Engine`, typed structurally). */
export interface LeaseEngineLike {
  get(key: string): string | null;
  set(key: string, value: string, options?: { ttlMs?: number }): boolean;
  acquireLock(key: string, token: string, ttlMs: number): boolean;
  extendLock(key: string, token: string, ttlMs: number): boolean;
  releaseLock(key: string, token: string): boolean;
  delete(key: string): boolean;
}

/** A ShardLeaseStore in `engine` for the shards of stream (or table) `scope`. */
export function engineShardLeaseStore(engine: LeaseEngineLike, scope: string): ShardLeaseStore {
  checkShardScope(scope);
  const jsonList = (key: string): string[] => {
    const v = engine.get(key);
    return v === null ? [] : (JSON.parse(v) as string[]);
  };
  const done = finishedKey(scope);
  const markFinished = (id: string) => {
    const ids = jsonList(done);
    if (!ids.includes(id)) engine.set(done, JSON.stringify([...ids, id]));
  };
  const all = workersKey(scope);
  return {
    async heartbeat(owner, ttlMs) {
      engine.set(workerKey(scope, owner), '1', { ttlMs });
      const ids = jsonList(all);
      if (!ids.includes(owner)) engine.set(all, JSON.stringify([...ids, owner]));
    },
    async leave(owner) {
      engine.delete(workerKey(scope, owner));
      engine.set(all, JSON.stringify(jsonList(all).filter((w) => w !== owner)));
    },
    async liveWorkers() {
      const ids = jsonList(all);
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
      const next = { ...parseCheckpoint(engine.get(k.checkpoint), k.checkpoint), ...checkpointPatch(c) };
      engine.set(k.checkpoint, JSON.stringify(next));
      if (next.finished) markFinished(id);
      return true;
    },
    async finished() {
      return new Set(jsonList(done));
    },
  };
}
