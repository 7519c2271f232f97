/**
 * The shard-lease store kept in Valkey (standalone or cluster), so several DynamoDB Streams pollers
 * on several hosts share a stream's shards (keys: ../shard-lease-keys.ts). Acquire is `SET NX PX`
 * (or a PEXPIRE when the lease is already ours); renew, release, steal and setCheckpoint are Lua
 * compare-and-set scripts (EVAL: only the holder writes), and checkpoint fields are merged in the
 * script. The lease key and the checkpoint share a hash tag, so one script touches one slot.
 */
import type { Cluster, Valkey } from 'iovalkey';
import { leaseCall } from '../resp/reply-errors.ts';
import { markShardFinished, respShardLeaseParts } from '../resp/resp-shard-leases.ts';
import { checkpointPatch, checkShardScope, shardKeys } from '../shard-lease-keys.ts';
import type { ShardLeaseStore } from '../shard-lease-store.ts';

/** Lua sources of the Valkey store (KEYS[1] = lease, KEYS[2] = checkpoint; ARGV[1] = owner). */
export const LEASE_SCRIPTS: Readonly<
  Record<'acquire' | 'renew' | 'release' | 'steal' | 'setCheckpoint', string>
> = {
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
};

/** A ShardLeaseStore in Valkey for the shards of stream (or table) `scope`; `client` is shared, not owned. */
export function valkeyShardLeaseStore(client: Valkey | Cluster, scope: string): ShardLeaseStore {
  checkShardScope(scope);
  const evalLease = (lua: string, keys: string[], args: string[]) =>
    leaseCall('script', async () => Number(await client.eval(lua, keys.length, ...keys, ...args)));
  const lease = (id: string) => shardKeys(scope, id).lease;
  return {
    ...respShardLeaseParts(client, scope),
    async steal(id, from, owner, ttlMs) {
      return (await evalLease(LEASE_SCRIPTS.steal, [lease(id)], [owner, String(ttlMs), from])) === 1;
    },
    async acquire(id, owner, ttlMs) {
      return (await evalLease(LEASE_SCRIPTS.acquire, [lease(id)], [owner, String(ttlMs)])) === 1;
    },
    async renew(id, owner, ttlMs) {
      return (await evalLease(LEASE_SCRIPTS.renew, [lease(id)], [owner, String(ttlMs)])) === 1;
    },
    async release(id, owner) {
      await evalLease(LEASE_SCRIPTS.release, [lease(id)], [owner]);
    },
    async setCheckpoint(id, owner, c) {
      const k = shardKeys(scope, id);
      const ok =
        (await evalLease(
          LEASE_SCRIPTS.setCheckpoint,
          [k.lease, k.checkpoint],
          [owner, JSON.stringify(checkpointPatch(c))],
        )) === 1;
      if (ok && c.finished) await markShardFinished(client, scope, id);
      return ok;
    },
  };
}
