/**
 * FillLeaseStore over an engine server, with the engine's CACHE.* commands (see engine/server/commands/
 * cache.ts). CACHE.WAIT holds its connection until the wake-up, so waits run on a small pool of
 * duplicate connections and never stall the shared one.
 */
import type { Valkey } from 'iovalkey';
import type { FillLeaseStore, FillLeaseStoreOptions, FillOutcome } from '../../client/fill-lease-store.ts';
import { versionSortKey } from '../../event/version.ts';
import { TARGET_DEFAULTS } from '../cache-target.ts';
import { respNearTracker } from '../resp/resp-tracker.ts';
import { probedRead, type StaleProbe } from '../resp/stale-probe.ts';
import { invalidateTagRemote } from './engine-remote-tags.ts';

/**
 * The soft mark on the engine server, for the store's reads and a near cache's tracked reads: one
 * CACHE.READ (value, TTL and mark in one command: 110 vs 130 µs per miss, server CPU 21.5 vs 25.5 µs,
 * bench/client/near-miss.ts); on an older server without it, CACHE.STALE around GET in a pipeline.
 */
const ENGINE_STALE_PROBE: StaleProbe = {
  commands: (key) => [['CACHE.STALE', key]],
  stale: ([stale]) => stale === 1,
  command: 'CACHE.READ',
};

/** A FillLeaseStore over the engine server `client` talks to (the remote engine target's client). */
export function engineRemoteLeaseStore(client: Valkey, options: FillLeaseStoreOptions = {}): FillLeaseStore {
  const tombstoneTtlMs = options.tombstoneTtlMs ?? TARGET_DEFAULTS.tombstoneTtlMs;
  const idle: Valkey[] = [];
  const all: Valkey[] = [];
  return {
    kind: 'engine-remote',
    wakes: true,
    read: (key) => probedRead(client, key, ENGINE_STALE_PROBE),
    async acquireLease(key, ttlMs) {
      return (await client.call('CACHE.LEASE', key, String(ttlMs))) as string | null;
    },
    async fill(key, token, value, ttlMs, version, tags) {
      if (tags !== undefined && tags.length > 0) {
        const v = version === undefined ? '' : versionSortKey(version);
        const args: (string | Buffer)[] = [key, token, value, String(ttlMs), v, ...tags.flat()];
        return (await client.call('CACHE.TAGFILL', ...args)) as FillOutcome;
      }
      const args: (string | Buffer)[] = [key, token, value, String(ttlMs)];
      if (version !== undefined) args.push(versionSortKey(version));
      return (await client.call('CACHE.FILL', ...args)) as FillOutcome;
    },
    async joinTags(key, tags, memberTtlMs) {
      const epochs = (await client.call('CACHE.TAGJOIN', key, String(memberTtlMs), ...tags)) as string[];
      return tags.map((tag, i) => [tag, epochs[i] ?? ''] as const);
    },
    async releaseLease(key, token) {
      await client.call('CACHE.RELEASE', key, token);
    },
    async waitForFill(key, timeoutMs) {
      let conn = idle.pop();
      if (conn === undefined) {
        conn = client.duplicate();
        all.push(conn);
      }
      try {
        await conn.call('CACHE.WAIT', key, String(Math.max(1, Math.trunc(timeoutMs))));
      } finally {
        idle.push(conn);
      }
    },
    async write(key, value, ttlMs, version, tags) {
      if (tags !== undefined && tags.length > 0) {
        const v = version === undefined ? '' : versionSortKey(version);
        const reply = await client.call('CACHE.TAGWRITE', key, value, String(ttlMs), v, ...tags.flat());
        return reply === 'fenced' ? 'fenced' : 'applied';
      }
      if (version !== undefined) {
        const reply = await client.call('CACHE.REFRESH', key, value, String(ttlMs), versionSortKey(version));
        return reply === 'fenced' ? 'fenced' : 'applied';
      }
      if (ttlMs > 0) await client.set(key, value, 'PX', ttlMs);
      else await client.set(key, value);
      return 'applied';
    },
    async invalidate(key, version) {
      if (version === undefined) await client.del(key);
      else await client.call('CACHE.INVALIDATE', key, versionSortKey(version));
    },
    async invalidateTag(tag, tagOptions = {}) {
      const version = tagOptions.version === undefined ? '' : versionSortKey(tagOptions.version);
      return invalidateTagRemote(client, tag, version, { soft: tagOptions.soft === true, tombstoneTtlMs });
    },
    nearTracker: () => respNearTracker('engine-remote', client, ENGINE_STALE_PROBE),
    async close() {
      await Promise.all(all.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
