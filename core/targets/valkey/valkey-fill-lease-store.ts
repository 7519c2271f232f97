/**
 * FillLeaseStore over the Valkey target. The lease (a random token and its end) lives in the key's
 * fence sibling V beside the version (layout 2, valkey-scripts.ts); taking it, fills, releases and
 * writes are the adapter's Lua scripts, so an invalidation (which overwrites V) and a fill can never
 * interleave. Each script also honours a layout-1 lease sibling L (an older client's, during an
 * upgrade): taking a lease checks it, and writes and invalidations delete it. Valkey cannot wake waiters here, so
 * `waitForFill` only sleeps and the client polls with bounded backoff.
 */
import { randomBytes } from 'node:crypto';
import type { FillLeaseStore, FillLeaseStoreOptions, FillOutcome } from '../../client/fill-lease-store.ts';
import { clusterNearTracker } from '../../client/near-cache/cluster-tracker.ts';
import { respNearTracker } from '../../client/near-cache/resp-tracker.ts';
import { versionSortKey } from '../../event/version.ts';
import { TARGET_DEFAULTS } from '../cache-target.ts';
import { toTargetError } from '../resp/reply-errors.ts';
import { leaseKey, versionKey } from './valkey-keys.ts';
import { DROP, FILL, INVALIDATE, LEASE, type LuaScript, REFRESH, RELEASE, WRITE } from './valkey-scripts.ts';
import type { ValkeyTarget } from './valkey-target.ts';

/** Options of {@link valkeyLeaseStore} (the fill-lease store options every backend takes). */
export type ValkeyLeaseStoreOptions = FillLeaseStoreOptions;

const FILL_OUTCOMES: Record<number, FillOutcome> = { 0: 'rejected', 1: 'filled', 2: 'fenced' };

/** A FillLeaseStore over a Valkey target (standalone or cluster). */
export function valkeyLeaseStore(
  target: Pick<ValkeyTarget, 'kind' | 'client' | 'run'>,
  options: ValkeyLeaseStoreOptions = {},
): FillLeaseStore {
  const client = target.client;
  const tombstoneTtlMs = options.tombstoneTtlMs ?? TARGET_DEFAULTS.tombstoneTtlMs;
  async function run(script: LuaScript, keys: string[], args: (string | Buffer)[]): Promise<unknown> {
    const [r] = await target.run([{ script, keys, args }]);
    if (r === undefined) throw toTargetError(new Error('no reply'));
    if (!r.ok) throw toTargetError(r.error);
    return r.reply;
  }
  return {
    kind: target.kind,
    wakes: false,
    async read(key) {
      const replies = (await client.pipeline().getBuffer(key).pttl(key).exec()) ?? [];
      const [getErr, value] = replies[0] ?? [new Error('no reply')];
      if (getErr) throw toTargetError(getErr);
      if (value === null || value === undefined) return null;
      const ttl = replies[1]?.[1];
      return { value: value as Buffer, ttlMs: typeof ttl === 'number' ? ttl : -1 };
    },
    async acquireLease(key, ttlMs) {
      const token = randomBytes(12).toString('hex');
      const reply = await run(
        LEASE,
        [versionKey(key), leaseKey(key)],
        [token, String(Math.max(1, Math.trunc(ttlMs)))],
      );
      return reply === 1 ? token : null;
    },
    async fill(key, token, value, ttlMs, version) {
      const v = version === undefined ? '' : versionSortKey(version);
      const reply = await run(FILL, [key, versionKey(key)], [token, value, String(ttlMs), v]);
      return FILL_OUTCOMES[reply as number] ?? 'rejected';
    },
    async releaseLease(key, token) {
      await run(RELEASE, [versionKey(key)], [token]);
    },
    async waitForFill(_key, timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    },
    async write(key, value, ttlMs, version) {
      if (version === undefined) {
        await run(WRITE, [key, versionKey(key), leaseKey(key)], [value, String(ttlMs)]);
        return 'applied';
      }
      const keys = [key, versionKey(key), leaseKey(key)];
      const reply = await run(REFRESH, keys, [value, String(ttlMs), versionSortKey(version)]);
      return reply === 0 ? 'fenced' : 'applied';
    },
    async invalidate(key, version) {
      if (version === undefined) {
        await run(DROP, [key, versionKey(key), leaseKey(key)], []);
        return;
      }
      const keys = [key, versionKey(key), leaseKey(key)];
      await run(INVALIDATE, keys, [versionSortKey(version), String(tombstoneTtlMs)]);
    },
    nearTracker: () =>
      'nodes' in client ? clusterNearTracker(client) : respNearTracker(target.kind, client),
    async close() {},
  };
}
