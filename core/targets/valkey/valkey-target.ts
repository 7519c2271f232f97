/**
 * The Valkey target (kind `valkey` or `valkey-cluster`): CacheOps applied to an external Valkey
 * (standalone or cluster, TLS, ACL user) through iovalkey.
 *
 * Invariants:
 * - Plain values stay plain: `GET key` returns exactly the refreshed bytes. The fencing version and
 *   the fill lease live in one sibling key of the same hash slot (valkey-keys.ts, valkey-scripts.ts).
 * - Every fenced op runs atomically in Lua over key + siblings (valkey-scripts.ts). A batch's key ops
 *   go out as chunks, many ops per EVALSHA of the APPLY script, one slot per chunk in a cluster
 *   (valkey-batch.ts); each op's result is the server's code for it. Connection loss and transient
 *   replies → retriable TargetError (the table in ../resp/reply-errors.ts). App-side calls (fill,
 *   lease, write) use ScriptRunner; `fillLeases()` and `shardLeases()` serve the app-side client and
 *   the DynamoDB poller's leases over the same connection (their modules load on first use).
 * - `invalidatePrefix` SCANs every master (one pass, MATCH `*prefix*`) for the prefix's values,
 *   tombstones and leases, then invalidates each key fenced. A batch's prefix invalidations of one
 *   prefix with nothing between them touching its keys run once, with the newest version
 *   (../prefix-merge.ts). Unlike the engine it leaves no prefix-wide fence: a key that did
 *   not exist when the prefix was invalidated can still take an older refresh later.
 * - Soft and tag invalidations run their own scripts (valkey-tags.ts). A batch is applied in
 *   segments, in order: a run of key ops (APPLY), a run of soft invalidations, or one prefix or tag
 *   op (a barrier), so every key's ops keep their order.
 */
import type { Cluster, Valkey } from 'iovalkey';
import { TargetError } from '../../errors.ts';
import { versionSortKey } from '../../event/version.ts';
import type { CacheOp, InvalidatePrefixOp, SoftInvalidateOp } from '../cache-op.ts';
import { type CapableCacheTarget, type OpResult, TARGET_DEFAULTS } from '../cache-target.ts';
import { lazyFillLeaseStore, lazyShardLeaseStore } from '../lazy-lease-stores.ts';
import { countPrefixInvalidations, groupPrefixInvalidations } from '../prefix-merge.ts';
import { toTargetError } from '../resp/reply-errors.ts';
import { type KeyOp, KeyOpApplier } from './valkey-batch.ts';
import {
  openValkeyClient,
  parseValkeyUrl,
  resolveConnection,
  type ValkeyConnectionOptions,
} from './valkey-connection.ts';
import { globEscape, isReserved, parseSibling } from './valkey-keys.ts';
import {
  type CallResult,
  loadScripts,
  masters,
  type RunnerLimits,
  resolveLimits,
  type ScriptCall,
  ScriptRunner,
} from './valkey-runner.ts';
import { applySoftInvalidations, applyTagInvalidation } from './valkey-tags.ts';
import { applyUnfenced } from './valkey-unfenced.ts';

/** Options of {@link createValkeyTarget}. */
export interface ValkeyTargetOptions extends ValkeyConnectionOptions, RunnerLimits {
  /** Tombstone lifetime of invalidations, ms. @default TARGET_DEFAULTS.tombstoneTtlMs */
  tombstoneTtlMs?: number;
  /** SCAN page size for prefix invalidation and dumps. @default 1000 */
  scanCount?: number;
  /**
   * TEST/DIAGNOSTIC ONLY: `false` applies refresh/invalidate unconditionally (plain SET/DEL, no
   * version fence, no tombstone; valkey-unfenced.ts), to show what fencing prevents. @default true
   */
  fencing?: boolean;
}

/** A CacheTarget over Valkey; `run` and `client` serve the app-side cache client. */
export interface ValkeyTarget extends CapableCacheTarget {
  readonly kind: 'valkey' | 'valkey-cluster';
  /** The iovalkey client (a Cluster for `valkey-cluster`). */
  readonly client: Valkey | Cluster;
  /** Runs script calls (node-grouped, bounded, NOSCRIPT-safe); one result per call. */
  run(calls: readonly ScriptCall[]): Promise<CallResult[]>;
}

async function scanAll(
  node: Valkey,
  pattern: string,
  count: number,
  each: (names: string[]) => Promise<void>,
) {
  let cursor = '0';
  do {
    const [next, names] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
    cursor = next;
    if (names.length > 0) await each(names);
  } while (cursor !== '0');
}

function segmentOf(op: CacheOp): 'key' | 'soft' | 'barrier' {
  if (op.kind === 'refresh' || op.kind === 'invalidate') return 'key';
  return op.kind === 'softInvalidate' ? 'soft' : 'barrier';
}

/** Opens a Valkey target (standalone or cluster); rejects with a TargetError when it cannot connect. */
export async function createValkeyTarget(options: ValkeyTargetOptions): Promise<ValkeyTarget> {
  const tombstoneTtlMs = options.tombstoneTtlMs ?? TARGET_DEFAULTS.tombstoneTtlMs;
  const scanCount = options.scanCount ?? 1000;
  if (!(tombstoneTtlMs >= 0) || !Number.isInteger(tombstoneTtlMs)) {
    throw new TargetError('valkey target: tombstoneTtlMs must be an integer >= 0', { retriable: false });
  }
  const resolved = resolveConnection(options);
  const limits = resolveLimits(options); // bad limits fail here, before a connection opens
  const conn = await openValkeyClient(resolved);
  const runner = new ScriptRunner(conn, limits);
  const legacyLeases =
    options.legacyLeases ??
    (options.url === undefined ? undefined : parseValkeyUrl(options.url).legacyLeases);
  const applier = new KeyOpApplier(conn, limits, tombstoneTtlMs, legacyLeases === true);
  try {
    await loadScripts(conn);
  } catch (error) {
    conn.client.disconnect();
    throw toTargetError(error, 'valkey target: loading scripts');
  }

  async function invalidatePrefix(op: InvalidatePrefixOp): Promise<OpResult> {
    try {
      versionSortKey(op.version);
    } catch (error) {
      return {
        ok: false,
        error: new TargetError(`valkey: ${(error as Error).message}`, { retriable: false }),
      };
    }
    // ONE pass per master: every name to look at contains the prefix (the value `P…`, its fence
    // `__cdc:v:{P…}` or `__cdc:vx:{tag}P…`, a layout-1 lease `__cdc:l…`), so `*P*` finds them all and
    // the filter below keeps exactly those. A SCAN walks the whole keyspace whatever its MATCH, so one
    // pass instead of one per name shape (five before) is five times less server work.
    const pattern = `*${globEscape(op.prefix)}*`;
    try {
      for (const node of masters(conn)) {
        await scanAll(node, pattern, scanCount, async (names) => {
          const keys = new Set<string>();
          for (const name of names) {
            const key = isReserved(name) ? parseSibling(name)?.key : name;
            if (key?.startsWith(op.prefix) && !isReserved(key)) keys.add(key);
          }
          const ops: KeyOp[] = [...keys].map((key) => ({ kind: 'invalidate', key, version: op.version }));
          const results: OpResult[] = new Array(ops.length);
          await applier.apply(ops, 0, ops.length, results);
          for (const r of results) if (!r.ok) throw r.error;
        });
      }
    } catch (error) {
      return { ok: false, error: toTargetError(error) };
    }
    return { ok: true, outcome: 'applied' };
  }

  const target: ValkeyTarget = {
    kind: conn.cluster ? 'valkey-cluster' : 'valkey',
    client: conn.client,
    run: (calls) => runner.run(calls),
    // The stores' modules load on first use (lazy-lease-stores.ts): the CDC path never needs them.
    fillLeases: (leaseOptions) =>
      lazyFillLeaseStore({ kind: target.kind, wakes: false, tracks: true }, async () =>
        (await import('./valkey-fill-lease-store.ts')).valkeyLeaseStore(target, leaseOptions),
      ),
    shardLeases: (scope) =>
      lazyShardLeaseStore(scope, async () =>
        (await import('./valkey-shard-lease-store.ts')).valkeyShardLeaseStore(conn.client, scope),
      ),
    async apply(ops) {
      if (options.fencing === false) return applyUnfenced(conn.client, ops);
      const results: OpResult[] = new Array(ops.length);
      // Prefix invalidations of one prefix that nothing between them touches scan once (prefix-merge.ts).
      const groups = countPrefixInvalidations(ops) > 1 ? groupPrefixInvalidations(ops) : undefined;
      // Segments (see module comment): key ops before a barrier complete first, ops after it start after.
      let start = 0;
      while (start < ops.length) {
        const first = ops[start]!;
        const segment = segmentOf(first);
        let end = start + 1;
        if (segment !== 'barrier') while (end < ops.length && segmentOf(ops[end]!) === segment) end++;
        // ops[start..end) are all of one segment's kinds.
        if (segment === 'key') await applier.apply(ops as readonly KeyOp[], start, end, results);
        else if (segment === 'soft')
          await applySoftInvalidations(
            runner,
            ops as readonly SoftInvalidateOp[],
            start,
            end,
            tombstoneTtlMs,
            results,
          );
        else if (first.kind === 'invalidatePrefix') {
          const newest = groups?.versionOf.get(start);
          if (groups?.leaderOf.has(start) !== true)
            results[start] = await invalidatePrefix(
              newest === undefined ? first : { ...first, version: newest },
            );
        } else if (first.kind === 'invalidateTag')
          results[start] = await applyTagInvalidation(runner, conn.client, first, tombstoneTtlMs);
        start = end;
      }
      if (groups !== undefined)
        for (const [member, leader] of groups.leaderOf) results[member] = results[leader]!;
      return results;
    },
    async get(key) {
      try {
        return await conn.client.get(key);
      } catch (error) {
        throw toTargetError(error);
      }
    },
    async dump() {
      const out: Record<string, string> = {};
      try {
        for (const node of masters(conn)) {
          let cursor = '0';
          do {
            const [next, names] = (await node.call(
              'SCAN',
              cursor,
              'COUNT',
              String(scanCount),
              'TYPE',
              'string',
            )) as [string, string[]];
            cursor = next;
            const keys = names.filter((n) => !isReserved(n));
            if (keys.length === 0) continue;
            const p = node.pipeline();
            for (const k of keys) p.get(k);
            const replies = (await p.exec()) ?? [];
            keys.forEach((k, n) => {
              const v = replies[n]?.[1];
              if (typeof v === 'string') out[k] = v;
            });
          } while (cursor !== '0');
        }
      } catch (error) {
        throw toTargetError(error);
      }
      return out;
    },
    async close() {
      await conn.client.quit().catch(() => conn.client.disconnect());
    },
  };
  return target;
}
