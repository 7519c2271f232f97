/**
 * The batched apply path (valkey-batch.ts): many fenced ops per APPLY script call, and still one
 * exact result per op. Small chunk limits make every case span several calls and pipelines.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRetriable } from '../../../core/errors.ts';
import { versionSortKey } from '../../../core/event/version.ts';
import type { CacheOp } from '../../../core/targets/cache-op.ts';
import type { OpResult } from '../../../core/targets/cache-target.ts';
import { valkeyLeaseStore } from '../../../core/targets/valkey/valkey-fill-lease-store.ts';
import { leaseKey, versionKey } from '../../../core/targets/valkey/valkey-keys.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';
import { type OwnValkey, startOwnValkey } from '../../support/own-valkey.ts';

const LIMITS = { maxOpsPerScript: 4, maxOpsPerPipeline: 10, maxInFlight: 2, maxBytesPerScript: 200 };
const APPLIED: OpResult = { ok: true, outcome: 'applied' };
const FENCED: OpResult = { ok: true, outcome: 'fenced' };

/** 40 keys: refresh v2, invalidate v3 (applied), then the stale refresh v2 again (fenced). */
function mixedOps(ns: string): { ops: CacheOp[]; expected: OpResult[] } {
  const ops: CacheOp[] = [];
  const expected: OpResult[] = [];
  for (let i = 0; i < 40; i++) {
    const key = i % 5 === 0 ? `{${ns}tag}${i}` : `${ns}${i}`;
    ops.push({ kind: 'refresh', key, value: `v${i}`, ttlMs: 60_000, version: '2' });
    expected.push(APPLIED);
  }
  for (let i = 0; i < 40; i += 2) {
    const key = i % 5 === 0 ? `{${ns}tag}${i}` : `${ns}${i}`;
    ops.push({ kind: 'invalidate', key, version: '3' });
    expected.push(APPLIED);
    ops.push({ kind: 'refresh', key, value: 'stale', ttlMs: 0, version: '2' });
    expected.push(FENCED);
  }
  return { ops, expected };
}

async function evalshaCalls(target: ValkeyTarget): Promise<number> {
  const stats = (await target.client.call('INFO', 'commandstats')) as string;
  return Number(/cmdstat_evalsha:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('batched apply on a private server', () => {
  let server: OwnValkey;
  let target: ValkeyTarget;
  let legacy: ValkeyTarget;
  beforeAll(async () => {
    server = await startOwnValkey();
    target = await createValkeyTarget({ url: server.url, ...LIMITS });
    legacy = await createValkeyTarget({ url: server.url, ...LIMITS, legacyLeases: true });
  });
  afterAll(async () => {
    await target?.close();
    await legacy?.close();
    await server?.stop();
  });

  it('applies many ops per script call, in order per key, with one exact result per op', async () => {
    const { ops, expected } = mixedOps('m:');
    await target.client.call('CONFIG', 'RESETSTAT');
    expect(await target.apply(ops)).toEqual(expected);
    // 80 ops in chunks of 4: 20 calls, not 80.
    expect(await evalshaCalls(target)).toBe(20);
    const dump = await target.dump();
    expect(dump['m:1']).toBe('v1');
    expect(dump['m:2']).toBeUndefined();
    expect(dump['{m:tag}5']).toBe('v5');
    expect(dump['{m:tag}10']).toBeUndefined();
    // A replay of the same ops changes nothing: every op is fenced or re-applies the same state.
    const again = await target.apply(ops);
    expect(again.slice(0, 40).every((r) => r.ok && r.outcome === 'fenced')).toBe(true);
    expect(await target.dump()).toEqual(dump);
  });

  it('names the fence sibling (and the layout-1 lease sibling) exactly as valkey-keys.ts does (plain, hash-tagged, stray brace)', async () => {
    // APPLY gets only the data key and builds the sibling names itself; the one-op scripts (fills,
    // leases) get them from siblingKey(). Both must name the same keys.
    const keys = ['sib:plain:1', '{sib:tag}:2', 'sib:stray}:3'];
    const store = valkeyLeaseStore(target);
    const tokens = await Promise.all(keys.map((k) => store.acquireLease(k, 60_000)));
    for (const k of keys) await target.client.set(leaseKey(k), 'layout-1 token');
    const ops: CacheOp[] = keys.map((key) => ({
      kind: 'refresh',
      key,
      value: 'v',
      ttlMs: 60_000,
      version: '7',
    }));
    expect(await legacy.apply(ops)).toEqual(keys.map(() => APPLIED));
    for (const [n, k] of keys.entries()) {
      expect(await target.client.get(versionKey(k))).toBe(versionSortKey('7')); // the lease in it is gone
      expect(await store.fill(k, tokens[n]!, 'stale', 60_000)).toBe('rejected');
      expect(await target.client.exists(leaseKey(k))).toBe(0); // legacyLeases: the layout-1 lease too
    }
    expect(await target.apply(keys.map((key) => ({ kind: 'invalidate', key, version: '8' })))).toEqual(
      keys.map(() => APPLIED),
    );
    for (const k of keys) {
      expect(await target.client.exists(k)).toBe(0);
      expect(await target.client.get(versionKey(k))).toBe(versionSortKey('8')); // the tombstone
    }
  });

  it('gives value, fence and tombstone their TTLs from the server clock (PXAT), several TTLs per call; huge and bad TTLs keep PX', async () => {
    const ops: CacheOp[] = [
      { kind: 'refresh', key: 'ttl:1', value: 'a', ttlMs: 60_000, version: '1' },
      { kind: 'refresh', key: 'ttl:2', value: 'b', ttlMs: 5_000, version: '1' },
      { kind: 'refresh', key: 'ttl:3', value: 'c', ttlMs: 60_000, version: '1' },
      { kind: 'invalidate', key: 'ttl:4', version: '1' },
      { kind: 'refresh', key: 'ttl:5', value: 'e', ttlMs: 0, version: '1' },
      // 17 digits: past what PXAT arithmetic in Lua keeps exact, so it goes out as PX.
      { kind: 'refresh', key: 'ttl:6', value: 'f', ttlMs: 1e16, version: '1' },
      // Not digits: PX answers the server's own error, for this op only.
      { kind: 'refresh', key: 'ttl:7', value: 'g', ttlMs: Number.POSITIVE_INFINITY, version: '1' },
      { kind: 'refresh', key: 'ttl:8', value: 'h', ttlMs: 5_000, version: '1' },
    ];
    const rs = await target.apply(ops);
    expect(rs.filter((_, i) => i !== 6)).toEqual(Array(7).fill(APPLIED));
    expect(rs[6]?.ok).toBe(false);
    expect(!rs[6]?.ok && rs[6]?.error.message).toMatch(/not an integer/);
    const pttl = (k: string) => target.client.pttl(k);
    const within = async (k: string, ms: number) => {
      for (const key of [k, versionKey(k)]) {
        const left = await pttl(key);
        expect(left, key).toBeGreaterThan(ms - 10_000);
        expect(left, key).toBeLessThanOrEqual(ms);
      }
    };
    await within('ttl:1', 60_000);
    await within('ttl:2', 5_000);
    await within('ttl:3', 60_000);
    await within('ttl:8', 5_000);
    await within('ttl:6', 1e16);
    expect(await target.client.exists('ttl:4')).toBe(0);
    const tomb = await pttl(versionKey('ttl:4'));
    expect(tomb).toBeGreaterThan(290_000);
    expect(tomb).toBeLessThanOrEqual(300_000);
    expect(await pttl('ttl:5')).toBe(-1);
    expect(await pttl(versionKey('ttl:5'))).toBe(-1);
    expect(await target.client.exists('ttl:7', versionKey('ttl:7'))).toBe(0);
  });

  it('invalidates a prefix in one SCAN pass, and a batch of one prefix with nothing between in one pass at the newest version', async () => {
    const scans = async () => {
      const stats = (await target.client.call('INFO', 'commandstats')) as string;
      return Number(/cmdstat_scan:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    };
    const prefix = (version: string): CacheOp => ({ kind: 'invalidatePrefix', prefix: 'pg:', version });
    await target.apply([
      { kind: 'refresh', key: 'pg:1', value: 'a', ttlMs: 0, version: '1' },
      { kind: 'refresh', key: 'pg:{t}2', value: 'b', ttlMs: 0, version: '1' },
      { kind: 'refresh', key: 'other:1', value: 'c', ttlMs: 0, version: '1' },
    ]);
    // A fill lease on a key under the prefix with no value: found through its fence, and cancelled.
    const leases = valkeyLeaseStore(target);
    const token = await leases.acquireLease('pg:leased', 60_000);
    expect(token).toBeTruthy();
    // This server holds a few hundred keys: one pass is one SCAN call (five before: one per name shape).
    await target.client.call('CONFIG', 'RESETSTAT');
    expect(await target.apply([{ kind: 'invalidatePrefix', prefix: 'none:', version: '1' }])).toEqual([
      APPLIED,
    ]);
    expect(await scans()).toBe(1);

    await target.client.call('CONFIG', 'RESETSTAT');
    const rs = await target.apply([
      prefix('5'),
      { kind: 'refresh', key: 'other:1', value: 'c2', ttlMs: 0, version: '6' },
      prefix('9'),
      { kind: 'invalidate', key: 'other:2', version: '7' },
      prefix('7'),
    ]);
    expect(rs).toEqual([APPLIED, APPLIED, APPLIED, APPLIED, APPLIED]);
    expect(await scans()).toBe(1);
    for (const k of ['pg:1', 'pg:{t}2', 'pg:leased']) {
      expect(await target.client.exists(k)).toBe(0);
      expect(await target.client.get(versionKey(k))).toBe(versionSortKey('9'));
    }
    expect(await target.get('other:1')).toBe('c2');
    // The lease was cancelled: its fill is refused.
    expect(await leases.fill('pg:leased', token!, 'late', 0, undefined)).toBe('rejected');
    expect(await target.client.exists('pg:leased')).toBe(0);

    // An op on a key under the prefix between two of them keeps them apart, in order: two passes.
    await target.client.call('CONFIG', 'RESETSTAT');
    const apart = await target.apply([
      prefix('20'),
      { kind: 'refresh', key: 'pg:3', value: 'd', ttlMs: 0, version: '21' },
      prefix('22'),
    ]);
    expect(apart).toEqual([APPLIED, APPLIED, APPLIED]);
    expect(await scans()).toBe(2);
    expect(await target.client.exists('pg:3')).toBe(0);
    expect(await target.client.get(versionKey('pg:3'))).toBe(versionSortKey('22'));
  });

  it('sends a value bigger than maxBytesPerScript in a call of its own', async () => {
    const big = 'x'.repeat(1000);
    const rs = await target.apply([
      { kind: 'refresh', key: 'big:1', value: 'small', ttlMs: 0, version: '1' },
      { kind: 'refresh', key: 'big:2', value: big, ttlMs: 0, version: '1' },
      { kind: 'refresh', key: 'big:3', value: 'small', ttlMs: 0, version: '1' },
    ]);
    expect(rs).toEqual([APPLIED, APPLIED, APPLIED]);
    expect(await target.get('big:2')).toBe(big);
  });

  it('fails only the op whose sibling has the wrong type; its chunk neighbours apply', async () => {
    await target.client.hset(versionKey('wt:2'), 'f', '1');
    const rs = await target.apply([
      { kind: 'invalidate', key: 'wt:1', version: '1' },
      { kind: 'refresh', key: 'wt:2', value: 'x', ttlMs: 0, version: '1' },
      { kind: 'refresh', key: 'wt:3', value: 'y', ttlMs: 0, version: '1' },
    ]);
    expect(rs[0]).toEqual(APPLIED);
    expect(rs[1]?.ok).toBe(false);
    expect(!rs[1]?.ok && rs[1]?.error.message).toMatch(/WRONGTYPE/);
    expect(isRetriable(!rs[1]?.ok && rs[1]?.error)).toBe(false);
    expect(rs[2]).toEqual(APPLIED);
    expect(await target.get('wt:2')).toBeNull();
    expect(await target.get('wt:3')).toBe('y');
  });

  it('fails every op of a refused call retriably and applies none (OOM)', async () => {
    await target.client.call('CONFIG', 'SET', 'maxmemory', '1');
    let rs: OpResult[];
    try {
      rs = await target.apply(
        Array.from({ length: 10 }, (_, i) => ({
          kind: 'refresh' as const,
          key: `oom:${i}`,
          value: 'x',
          ttlMs: 0,
          version: '1',
        })),
      );
    } finally {
      await target.client.call('CONFIG', 'SET', 'maxmemory', '0');
    }
    for (const r of rs) {
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error.message).toMatch(/OOM/);
      expect(isRetriable(!r.ok && r.error)).toBe(true);
    }
    expect(await target.client.keys('*oom:*')).toEqual([]);
  });

  it('reloads its scripts after SCRIPT FLUSH and resends every chunk', async () => {
    await target.client.script('FLUSH');
    const { ops, expected } = mixedOps('nf:');
    expect(await target.apply(ops)).toEqual(expected);
  });
});

describe('batch limits', () => {
  it('rejects a bad limit before connecting, with the option named, not retriably', async () => {
    // Port 1 is closed: reaching it would fail differently (and retriably).
    const error = await createValkeyTarget({ url: 'valkey://127.0.0.1:1', maxOpsPerScript: 0 }).catch(
      (e) => e,
    );
    expect(String(error?.message)).toMatch(/maxOpsPerScript must be an integer >= 1/);
    expect(isRetriable(error)).toBe(false);
  });
});

describe('batched apply on the 3-master cluster', () => {
  let target: ValkeyTarget;
  const ns = `vb:${process.pid}-${randomBytes(3).toString('hex')}:`;
  beforeAll(async () => {
    requireServices('valkey-cluster');
    target = await createValkeyTarget({ url: `valkey://${valkeyServices().clusterNodes[0]}`, ...LIMITS });
  });
  afterAll(async () => {
    await target?.apply([{ kind: 'invalidatePrefix', prefix: ns, version: '9'.repeat(30) }]);
    await target?.close();
  });

  it('groups ops by slot (hash-tagged keys share calls) with one exact result per op', async () => {
    const { ops, expected } = mixedOps(ns);
    expect(await target.apply(ops)).toEqual(expected);
    expect(await target.get(`${ns}1`)).toBe('v1');
    expect(await target.get(`{${ns}tag}5`)).toBe('v5');
    expect(await target.get(`${ns}2`)).toBeNull();
  });
});
