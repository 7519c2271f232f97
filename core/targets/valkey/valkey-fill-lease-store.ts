/**
 * FillLeaseStore over the Valkey target. The lease (a random token and its end) lives in the key's
 * fence sibling V beside the version (layout 2, valkey-scripts.ts); taking it, fills, releases and
 * writes are the adapter's Lua scripts, so an invalidation (which overwrites V) and a fill can never
 * interleave. Each script also honours a layout-1 lease sibling L (an older client's, during an
 * upgrade): taking a lease checks it, and writes and invalidations delete it. Fills and writes are the
 * tagged scripts (valkey-tag-scripts.ts: the same fence and lease rules, plus the soft mark and the
 * tag fence). Valkey cannot wake waiters here, so `waitForFill` only sleeps and the client polls with
 * bounded backoff.
 */
import { randomBytes } from 'node:crypto';
import type { FillLeaseStore, FillLeaseStoreOptions, FillOutcome } from '../../client/fill-lease-store.ts';
import { versionSortKey } from '../../event/version.ts';
import { TARGET_DEFAULTS } from '../cache-target.ts';
import { toTargetError } from '../resp/reply-errors.ts';
import { respNearTracker } from '../resp/resp-tracker.ts';
import { type ReadScript, type StaleProbe, scriptedRead } from '../resp/stale-probe.ts';
import { clusterNearTracker } from './valkey-cluster-tracker.ts';
import { entryTagsKey, leaseKey, staleKey, tagStateKeys, versionKey } from './valkey-keys.ts';
import { DROP, INVALIDATE, LEASE, type LuaScript, RELEASE } from './valkey-scripts.ts';
import { FILL_TAGGED, READ_ENTRY, TAG_JOIN, WRITE_TAGGED } from './valkey-tag-scripts.ts';
import { invalidateTagOnValkey } from './valkey-tags.ts';
import type { ValkeyTarget } from './valkey-target.ts';

/** Options of {@link valkeyLeaseStore} (the fill-lease store options every backend takes). */
export type ValkeyLeaseStoreOptions = FillLeaseStoreOptions;

const FILL_OUTCOMES: Record<number, FillOutcome> = { 0: 'rejected', 1: 'filled', 2: 'fenced' };

/**
 * The version in a fence sibling's value: all of it, or the part before the first space while a fill
 * lease is held in it (`version token expiresAtMs`, layout 2, valkey-scripts.ts).
 */
export function fenceVersion(fence: string): string {
  const space = fence.indexOf(' ');
  return space < 0 ? fence : fence.slice(0, space);
}

/** READ_ENTRY's keys for `key`: K, the fence V and the soft mark S (one slot). */
const READ_SCRIPT: ReadScript = {
  lua: READ_ENTRY.lua,
  sha: READ_ENTRY.sha,
  keys: (key) => [key, versionKey(key), staleKey(key)],
};

/**
 * The soft mark on Valkey, for a near cache's tracked reads: one READ_ENTRY (value, TTL and mark
 * atomically: measured cheaper per miss than the 6-command probe pipeline, bench/results/near-cache.md);
 * the probe commands (S, and the fence V it must equal) describe the same rule.
 */
const VALKEY_STALE_PROBE: StaleProbe = {
  commands: (key) => [
    ['GET', staleKey(key)],
    ['GET', versionKey(key)],
  ],
  stale: ([mark, fence]) =>
    typeof mark === 'string' && typeof fence === 'string' && mark === fenceVersion(fence),
  script: READ_SCRIPT,
};

/** K and its siblings as FILL_TAGGED / WRITE_TAGGED take them (one slot). */
function entryKeys(key: string): string[] {
  return [key, versionKey(key), leaseKey(key), staleKey(key), entryTagsKey(key)];
}

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
      // Value, TTL and soft mark in one atomic script (READ_ENTRY): the mark counts while it equals
      // the fence's version (a fill lease held in the fence aside).
      try {
        return await scriptedRead(client, key, READ_SCRIPT);
      } catch (error) {
        throw toTargetError(error);
      }
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
    async fill(key, token, value, ttlMs, version, tags) {
      const v = version === undefined ? '' : versionSortKey(version);
      const args = [token, value, String(ttlMs), v, ...(tags ?? []).flat()];
      const reply = await run(FILL_TAGGED, entryKeys(key), args);
      return FILL_OUTCOMES[reply as number] ?? 'rejected';
    },
    async joinTags(key, tags, memberTtlMs) {
      const calls = tags.map((tag) => {
        const s = tagStateKeys(tag);
        return { script: TAG_JOIN, keys: [s.members, s.epoch], args: [key, String(memberTtlMs)] };
      });
      const replies = await target.run(calls);
      return tags.map((tag, i) => {
        const r = replies[i];
        if (r === undefined || !r.ok) throw toTargetError(r?.error ?? new Error('no reply'));
        return [tag, String(r.reply)] as const;
      });
    },
    async releaseLease(key, token) {
      await run(RELEASE, [versionKey(key)], [token]);
    },
    async waitForFill(_key, timeoutMs) {
      await new Promise((resolve) => setTimeout(resolve, timeoutMs));
    },
    async write(key, value, ttlMs, version, tags) {
      const v = version === undefined ? '' : versionSortKey(version);
      const reply = await run(WRITE_TAGGED, entryKeys(key), [
        value,
        String(ttlMs),
        v,
        ...(tags ?? []).flat(),
      ]);
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
    async invalidateTag(tag, tagOptions = {}) {
      const version = tagOptions.version === undefined ? '' : versionSortKey(tagOptions.version);
      const done = await invalidateTagOnValkey(target, client, tag, version, tombstoneTtlMs, {
        soft: tagOptions.soft === true,
        clustered: target.kind === 'valkey-cluster',
      });
      return { outcome: done.outcome, keys: done.keys };
    },
    nearTracker: () =>
      'nodes' in client
        ? clusterNearTracker(client, VALKEY_STALE_PROBE)
        : respNearTracker(target.kind, client, VALKEY_STALE_PROBE),
    async close() {},
  };
}
