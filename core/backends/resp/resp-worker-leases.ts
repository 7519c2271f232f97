/**
 * The balancing capabilities of the target lease store over a Valkey-protocol connection (Valkey
 * standalone or cluster, and the engine over RESP): worker heartbeats and lease holders.
 *
 * Keys (scope `S` = stream ARN, see consumers/dynamodb/target-lease-store.ts):
 * - `__cdc:worker:{S}:W` — worker `W` is alive: `SET … PX ttl`, so expiry is the server's clock.
 * - `__cdc:workers:{S}` — a hash whose fields are the workers that ever beat; a field whose worker
 *   key has expired is removed when `liveWorkers()` sees it.
 * Both share the hash tag `{S}` (one cluster slot). Holders are plain GETs of the lease keys.
 */
import type { Cluster, Valkey } from 'iovalkey';
import type { ShardLeaseStore } from '../shard-lease-store.ts';
import { toTargetError } from '../valkey/valkey-runner.ts';

/** The heartbeat key of worker `owner` of stream (or table) `scope`. */
export function workerKey(scope: string, owner: string): string {
  return `__cdc:worker:{${scope}}:${owner}`;
}

/** The hash of workers of stream (or table) `scope`. */
export function workersKey(scope: string): string {
  return `__cdc:workers:{${scope}}`;
}

/** The part of a {@link ShardLeaseStore} these functions serve. */
export type WorkerCapabilities = Pick<ShardLeaseStore, 'heartbeat' | 'leave' | 'liveWorkers' | 'holders'>;

/** Heartbeats and holders over `client`; `leaseKey` names a shard's lease key. */
export function valkeyWorkerCapabilities(
  client: Valkey | Cluster,
  scope: string,
  leaseKey: (shardId: string) => string,
): WorkerCapabilities {
  const all = workersKey(scope);
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toTargetError(error, `lease store ${what}`);
    }
  };
  return {
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
      const owners = await Promise.all(ids.map((id) => call('GET', () => client.get(leaseKey(id)))));
      const out = new Map<string, string>();
      ids.forEach((id, n) => {
        const o = owners[n];
        if (o !== null && o !== undefined) out.set(id, o);
      });
      return out;
    },
  };
}
