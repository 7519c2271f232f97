/**
 * The parts of a shard-lease store that the two Valkey-protocol backends (Valkey standalone or
 * cluster, the engine over RESP) share: worker heartbeats, lease holders, checkpoint reads and the
 * finished set. Leases and checkpoint writes differ (Lua scripts on Valkey, CACHE.* commands with
 * epoch fencing on the engine) and live in each backend's folder.
 *
 * Keys (scope `S` = stream ARN, see ../shard-lease-keys.ts):
 * - `__cdc:worker:{S}:W` — worker `W` is alive: `SET … PX ttl`, so expiry is the server's clock.
 * - `__cdc:workers:{S}` — a hash whose fields are the workers that ever beat; a field whose worker
 *   key has expired is removed when `liveWorkers()` sees it.
 * Both share the hash tag `{S}` (one cluster slot). Holders are plain GETs of the lease keys.
 */
import type { Cluster, Valkey } from 'iovalkey';
import { finishedKey, parseCheckpoint, shardKeys, workerKey, workersKey } from '../shard-lease-keys.ts';
import type { ShardLeaseStore } from '../shard-lease-store.ts';
import { leaseCall as call } from './reply-errors.ts';

/** The part of a {@link ShardLeaseStore} these functions serve. */
export type SharedShardLeaseParts = Pick<
  ShardLeaseStore,
  'heartbeat' | 'leave' | 'liveWorkers' | 'holders' | 'checkpoint' | 'finished'
>;

/** Adds `shardId` to the finished set of `scope` (after its finished checkpoint is written). */
export async function markShardFinished(
  client: Valkey | Cluster,
  scope: string,
  shardId: string,
): Promise<void> {
  await call('HSET', () => client.hset(finishedKey(scope), shardId, '1'));
}

/** Heartbeats, holders, checkpoint reads and the finished set of stream (or table) `scope` over `client`. */
export function respShardLeaseParts(client: Valkey | Cluster, scope: string): SharedShardLeaseParts {
  const all = workersKey(scope);
  const done = finishedKey(scope);
  return {
    async checkpoint(id) {
      const k = shardKeys(scope, id);
      const c = parseCheckpoint(await call('GET', () => client.get(k.checkpoint)), k.checkpoint);
      if (c.finished) await markShardFinished(client, scope, id);
      return c;
    },
    async finished() {
      return new Set(await call('HKEYS', () => client.hkeys(done)));
    },
    async heartbeat(owner, ttlMs) {
      await call('SET', () => client.set(workerKey(scope, owner), '1', 'PX', ttlMs));
      await call('HSET', () => client.hset(all, owner, '1'));
    },
    async leave(owner) {
      await call('DEL', () => client.del(workerKey(scope, owner)));
      await call('HDEL', () => client.hdel(all, owner));
    },
    async liveWorkers() {
      const ids = await call('HKEYS', () => client.hkeys(all));
      const alive = await Promise.all(ids.map((id) => call('GET', () => client.get(workerKey(scope, id)))));
      const dead = ids.filter((_, n) => alive[n] === null);
      if (dead.length > 0) await call('HDEL', () => client.hdel(all, ...dead));
      return ids.filter((_, n) => alive[n] !== null).sort();
    },
    async holders(ids) {
      const owners = await Promise.all(
        ids.map((id) => call('GET', () => client.get(shardKeys(scope, id).lease))),
      );
      const out = new Map<string, string>();
      ids.forEach((id, n) => {
        const o = owners[n];
        if (o !== null && o !== undefined) out.set(id, o);
      });
      return out;
    },
  };
}
