/**
 * The shard-lease store kept in the engine over RESP (keys: ../shard-lease-keys.ts). The engine
 * serves no EVAL, so the lease is `CACHE.LOCK`/`CACHE.EXTEND`/`CACHE.UNLOCK` (token-compared,
 * atomic), and a checkpoint is written with `CACHE.REFRESH` fenced by the version `<epoch>.<n>`: a
 * new lease takes a higher epoch (INCR on `__cdc:epoch:{S:ID}`), so once the new holder has
 * written, a late write from a former holder (one that passed the holder check and then stalled
 * past its lease) is fenced by the engine instead of moving the checkpoint.
 */
import type { Valkey } from 'iovalkey';
import { versionSortKey } from '../../event/version.ts';
import { leaseCall as call } from '../resp/reply-errors.ts';
import { markShardFinished, respShardLeaseParts } from '../resp/resp-shard-leases.ts';
import { checkpointPatch, checkShardScope, parseCheckpoint, shardKeys } from '../shard-lease-keys.ts';
import type { ShardLeaseStore } from '../shard-lease-store.ts';

/** A ShardLeaseStore in the engine server `client` talks to, for stream (or table) `scope`; `client` is shared. */
export function engineRemoteShardLeaseStore(client: Valkey, scope: string): ShardLeaseStore {
  checkShardScope(scope);
  /** Epoch of each lease this store holds and its write counter. */
  const held = new Map<string, { epoch: number; n: number }>();
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
    ...respShardLeaseParts(client, scope),
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
      const next = { ...parseCheckpoint(current, k.checkpoint), ...checkpointPatch(c) };
      h.n++;
      const version = versionSortKey(`${h.epoch}.${h.n}`);
      const reply = await call('CACHE.REFRESH', () =>
        client.call('CACHE.REFRESH', k.checkpoint, JSON.stringify(next), '0', version),
      );
      if (reply === 'fenced') {
        held.delete(id);
        return false;
      }
      if (next.finished) await markShardFinished(client, scope, id);
      return true;
    },
  };
}
