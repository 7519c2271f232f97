/**
 * The conformance suite: one specification of CacheTarget + cache-client behaviour, run against every
 * target (targets.ts). Keys live under a per-run namespace so shared servers stay usable by others;
 * the namespace is removed afterwards.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheClientOptions, createCacheClient } from '../../../core/client/cache-client.ts';
import { compressedJsonCodec } from '../../../core/client/codec.ts';
import type { CacheClientEvent } from '../../../core/client/events.ts';
import type { FillLeaseStore } from '../../../core/client/fill-lease-store.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import type { CacheOp } from '../../../core/targets/cache-op.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { SLOT_COUNT, slotTag } from '../../../core/targets/valkey/slots.ts';
import { describeSoftAndTags } from './soft-tags-suite.ts';
import { runStampede } from './stampede.ts';
import { type ConformanceTarget, openSpec, type TargetSpec } from './targets.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const refresh = (key: string, value: string, version: string, ttlMs = 0): CacheOp => ({
  kind: 'refresh',
  key,
  value,
  ttlMs,
  version,
});
const invalidate = (key: string, version: string): CacheOp => ({ kind: 'invalidate', key, version });
const outcomes = (rs: { ok: boolean; outcome?: string }[]) => rs.map((r) => (r.ok ? r.outcome : 'failed'));

/** Registers the suite for one target. */
export function describeConformance(t: ConformanceTarget): void {
  describe(`conformance: ${t.name}`, () => {
    const ns = `cf:${process.pid}-${randomBytes(3).toString('hex')}:`;
    let spec: TargetSpec;
    let target: CacheTarget; // tombstones live 60 s
    let shortTomb: CacheTarget; // tombstones live 300 ms
    let store: FillLeaseStore;
    const client = (options: Partial<CacheClientOptions> = {}) => createCacheClient({ store, ...options });

    beforeAll(async () => {
      spec = await t.setup();
      target = await openSpec(spec, 60_000);
      // The embedded engine is per process: the short-tombstone target must share it.
      shortTomb =
        spec.kind === 'engine'
          ? await (async () => {
              const { createEngineTarget } = await import('../../../core/targets/engine/engine-target.ts');
              return createEngineTarget({
                engine: (target as CacheTarget & { engine: never }).engine,
                tombstoneTtlMs: 300,
              });
            })()
          : await openSpec(spec, 300);
      store = leaseStoreFor(target);
    });

    afterAll(async () => {
      if (target !== undefined && spec.kind !== 'engine') {
        const cleaner = await openSpec(spec, 0);
        await cleaner.apply([{ kind: 'invalidatePrefix', prefix: ns, version: '9'.repeat(40) }]);
        await cleaner.close();
      }
      await store?.close();
      await shortTomb?.close();
      await target?.close();
      await t.teardown();
    });

    describeSoftAndTags({ ns, target: () => target, store: () => store });

    describe('CacheTarget', () => {
      it('stores plain values: get returns exactly the refreshed bytes', async () => {
        const value = '{"id":1,"name":"Zoë ✓","n":12345678901234567890}';
        expect(outcomes(await target.apply([refresh(`${ns}plain`, value, '1')]))).toEqual(['applied']);
        expect(await target.get(`${ns}plain`)).toBe(value);
        expect(await target.get(`${ns}absent`)).toBeNull();
      });

      it('fences by version: older never overwrites newer, duplicates are idempotent', async () => {
        const k = `${ns}fence`;
        const rs = await target.apply([
          refresh(k, 'v10', '10'),
          refresh(k, 'v9', '9'),
          refresh(k, 'v10-again', '10'),
          refresh(k, 'v11', '11'),
        ]);
        expect(outcomes(rs)).toEqual(['applied', 'fenced', 'fenced', 'applied']);
        expect(await target.get(k)).toBe('v11');
        // Components compare as integers; DynamoDB sequence numbers beyond 2^53 keep their order.
        const m = `${ns}fence:multi`;
        await target.apply([refresh(m, 'a', '3.154.0')]);
        expect(outcomes(await target.apply([refresh(m, 'b', '3.99.9')]))).toEqual(['fenced']);
        expect(outcomes(await target.apply([refresh(m, 'c', '3.1000')]))).toEqual(['applied']);
        const d = `${ns}fence:ddb`;
        await target.apply([refresh(d, 'new', '4421584500000000017450439092')]);
        expect(outcomes(await target.apply([refresh(d, 'old', '4421584500000000017450439091')]))).toEqual([
          'fenced',
        ]);
        expect(await target.get(d)).toBe('new');
      });

      it('invalidate leaves a tombstone that fences older refreshes until it expires', async () => {
        const k = `${ns}tomb`;
        await shortTomb.apply([refresh(k, 'v5', '5')]);
        expect(outcomes(await shortTomb.apply([invalidate(k, '6'), invalidate(k, '6')]))).toEqual([
          'applied',
          'fenced',
        ]);
        expect(await shortTomb.get(k)).toBeNull();
        expect(outcomes(await shortTomb.apply([refresh(k, 'v5', '5'), refresh(k, 'v6', '6')]))).toEqual([
          'fenced',
          'fenced',
        ]);
        expect(await shortTomb.get(k)).toBeNull();
        await sleep(450);
        // The tombstone is gone: nothing fences any more.
        expect(outcomes(await shortTomb.apply([refresh(k, 'v5', '5')]))).toEqual(['applied']);
        expect(await shortTomb.get(k)).toBe('v5');
        // A newer refresh replaces a tombstone at once.
        await target.apply([invalidate(`${ns}tomb2`, '7')]);
        expect(outcomes(await target.apply([refresh(`${ns}tomb2`, 'v8', '8')]))).toEqual(['applied']);
        expect(await target.get(`${ns}tomb2`)).toBe('v8');
      });

      it('expires refreshed values after their TTL; ttlMs 0 never expires', async () => {
        await target.apply([refresh(`${ns}ttl:short`, 'x', '1', 250), refresh(`${ns}ttl:none`, 'y', '1', 0)]);
        expect(await target.get(`${ns}ttl:short`)).toBe('x');
        await sleep(400);
        expect(await target.get(`${ns}ttl:short`)).toBeNull();
        expect(await target.get(`${ns}ttl:none`)).toBe('y');
        // An expired value takes no fence with it: an older version may be written again.
        expect(outcomes(await target.apply([refresh(`${ns}ttl:short`, 'z', '0')]))).toEqual(['applied']);
      });

      it('dumps visible values only (no tombstones, no metadata)', async () => {
        await target.apply([
          refresh(`${ns}dump:a`, 'A', '1'),
          refresh(`${ns}dump:b`, 'B', '1'),
          invalidate(`${ns}dump:b`, '2'),
        ]);
        const mine = Object.entries(await target.dump()).filter(([k]) => k.includes('dump:'));
        expect(mine).toEqual([[`${ns}dump:a`, 'A']]);
        expect(Object.keys(await target.dump()).some((k) => k.startsWith('__cdc:'))).toBe(false);
      });

      it('invalidatePrefix removes every key under the prefix, fenced per key, and nothing else', async () => {
        const p = `${ns}pfx:`;
        await target.apply([
          refresh(`${p}1`, 'one', '10'),
          refresh(`${p}{tagged}2`, 'two', '10'),
          refresh(`${p}newer`, 'newer', '30'),
          refresh(`${ns}other`, 'keep', '10'),
        ]);
        const [r] = await target.apply([{ kind: 'invalidatePrefix', prefix: p, version: '20' }]);
        expect(r?.ok).toBe(true);
        expect(await target.get(`${p}1`)).toBeNull();
        expect(await target.get(`${p}{tagged}2`)).toBeNull();
        expect(await target.get(`${p}newer`)).toBe('newer');
        expect(await target.get(`${ns}other`)).toBe('keep');
        expect(outcomes(await target.apply([refresh(`${p}1`, 'late', '15')]))).toEqual(['fenced']);
      });

      it('spreads keys over all 16384 slots (hash tags, stray braces, unicode) and reads each back', async () => {
        const keys = Array.from({ length: SLOT_COUNT }, (_, s) => `${ns}slot:{${slotTag(s)}}`);
        keys.push(`${ns}brace}only`, `${ns}{}empty-tag`, `${ns}ключ:✓`, `${ns}{a}{b}`);
        const rs = await target.apply(keys.map((k) => refresh(k, `v:${k}`, '1')));
        expect(rs.filter((r) => !r.ok)).toEqual([]);
        const sample = keys.filter((_, i) => i % 97 === 0 || i >= SLOT_COUNT);
        for (const k of sample) expect(await target.get(k)).toBe(`v:${k}`);
        const inv = await target.apply(keys.map((k) => invalidate(k, '2')));
        expect(inv.filter((r) => !r.ok || r.outcome !== 'applied')).toEqual([]);
        for (const k of sample) expect(await target.get(k)).toBeNull();
      });
    });

    describe('leases', () => {
      it('an invalidation cancels the lease: the racing fill is rejected', async () => {
        const k = `${ns}lease:inv`;
        const token = await store.acquireLease(k, 10_000);
        expect(token).not.toBeNull();
        expect(await store.acquireLease(k, 10_000)).toBeNull();
        await target.apply([invalidate(k, '5')]);
        expect(await store.fill(k, token!, 'stale', 60_000)).toBe('rejected');
        expect(await target.get(k)).toBeNull();
      });

      it('a refresh cancels the lease too', async () => {
        const k = `${ns}lease:ref`;
        const token = await store.acquireLease(k, 10_000);
        await target.apply([refresh(k, 'from-cdc', '5')]);
        expect(await store.fill(k, token!, 'from-app', 60_000)).toBe('rejected');
        expect(await target.get(k)).toBe('from-cdc');
      });

      it('a tombstone blocks a late versioned fill; a fill keeps the tombstone fence', async () => {
        const k = `${ns}lease:tomb`;
        await target.apply([invalidate(k, '10')]);
        const t1 = await store.acquireLease(k, 10_000);
        expect(await store.fill(k, t1!, 'old-row', 60_000, '9')).toBe('fenced');
        expect(await target.get(k)).toBeNull();
        const t2 = await store.acquireLease(k, 10_000);
        expect(await store.fill(k, t2!, 'fresh-row', 60_000)).toBe('filled');
        expect(await target.get(k)).toBe('fresh-row');
        expect(outcomes(await target.apply([refresh(k, 'older', '8')]))).toEqual(['fenced']);
        expect(await target.get(k)).toBe('fresh-row');
      });

      it('a released lease can be taken again; an expired lease frees the key', async () => {
        const k = `${ns}lease:rel`;
        const t1 = await store.acquireLease(k, 10_000);
        await store.releaseLease(k, t1!);
        const t2 = await store.acquireLease(k, 150);
        expect(t2).not.toBeNull();
        expect(await store.fill(k, t1!, 'x', 0)).toBe('rejected');
        await sleep(250);
        expect(await store.acquireLease(k, 10_000)).not.toBeNull();
      });
    });

    describe('cache client', () => {
      it('loads once on a miss, then hits; values round-trip through the codec', async () => {
        const events: CacheClientEvent['type'][] = [];
        const c = client({ onEvent: (e) => events.push(e.type) });
        let calls = 0;
        const loader = async (key: string) => ({ key, n: ++calls });
        const a = await c.getOrLoad(`${ns}c:1`, loader);
        const b = await c.getOrLoad(`${ns}c:1`, loader);
        expect(a).toEqual({ key: `${ns}c:1`, n: 1 });
        expect(b).toEqual(a);
        expect(calls).toBe(1);
        expect(await target.get(`${ns}c:1`)).toBe(JSON.stringify(a));
        expect(events).toEqual(['miss', 'load', 'fill', 'hit']);
        await c.close();
      });

      it('an invalidation during the load rejects the fill; the next read loads again', async () => {
        const events: CacheClientEvent[] = [];
        const c = client({ onEvent: (e) => events.push(e) });
        const k = `${ns}c:race`;
        let calls = 0;
        const v = await c.getOrLoad(k, async () => {
          calls++;
          await target.apply([invalidate(k, '3')]);
          return 'stale-row';
        });
        expect(v).toBe('stale-row');
        expect(events.some((e) => e.type === 'lease-rejected' && e.outcome === 'rejected')).toBe(true);
        expect(await target.get(k)).toBeNull();
        expect(
          await c.getOrLoad(k, async () => {
            calls++;
            return 'fresh-row';
          }),
        ).toBe('fresh-row');
        expect(calls).toBe(2);
        await c.close();
      });

      it('stampede in one process: 1,000 concurrent calls over 4 clients → 1 loader call', async () => {
        const clients = Array.from({ length: 4 }, () => client());
        let calls = 0;
        const loader = async () => {
          calls++;
          await sleep(100);
          return 'cold';
        };
        const k = `${ns}c:stampede-local`;
        const values = await Promise.all(
          Array.from({ length: 1000 }, (_, i) => clients[i % 4]!.getOrLoad(k, loader)),
        );
        expect(calls).toBe(1);
        expect(new Set(values)).toEqual(new Set(['cold']));
        await Promise.all(clients.map((c) => c.close()));
      });

      // The embedded engine lives in one process; every other target is shared by processes.
      if (t.shared) {
        it('stampede across 4 processes: 1,000 concurrent calls → exactly 1 loader call', async () => {
          const r = await runStampede(spec, `${ns}c:stampede`, 4, 250, 200);
          expect(r.events.filter((e) => e.startsWith('load')).length, r.events.join(' ')).toBe(1);
          expect(r.loaderCalls).toBe(1);
          expect(r.values).toHaveLength(1);
          expect(r.latencies).toHaveLength(1000);
        });
      }

      it('serves stale while one caller revalidates in the background', async () => {
        const c = client({ ttlMs: 200, staleWhileRevalidateMs: 5_000 });
        const k = `${ns}c:swr`;
        let n = 0;
        const loader = async () => {
          await sleep(50);
          return ++n;
        };
        expect(await c.getOrLoad(k, loader)).toBe(1);
        await sleep(300);
        const served = await Promise.all([c.getOrLoad(k, loader), c.getOrLoad(k, loader)]);
        expect(served).toEqual([1, 1]);
        await c.close(); // waits for the background refresh
        expect(n).toBe(2);
        expect(await target.get(k)).toBe('2');
      });

      it('serves stale within the grace period when the reload fails', async () => {
        const events: CacheClientEvent['type'][] = [];
        const c = client({ ttlMs: 200, staleIfErrorMs: 5_000, onEvent: (e) => events.push(e.type) });
        const k = `${ns}c:sie`;
        expect(await c.getOrLoad(k, async () => 'good')).toBe('good');
        await sleep(300);
        expect(
          await c.getOrLoad(k, async () => {
            throw new Error('db down');
          }),
        ).toBe('good');
        expect(events).toContain('load-error');
        await expect(
          c.getOrLoad(`${ns}c:sie-cold`, async () => {
            throw new Error('db down');
          }),
        ).rejects.toThrow('db down');
        await c.close();
      });

      it('writeThrough: a failed writer leaves the cache unchanged; a versioned write is fenced', async () => {
        const c = client();
        const k = `${ns}c:wt`;
        await target.apply([refresh(k, '"before"', '10')]);
        await expect(
          c.writeThrough(k, 'after', async () => {
            throw new Error('constraint violation');
          }),
        ).rejects.toThrow('constraint violation');
        expect(await target.get(k)).toBe('"before"');
        await c.writeThrough(k, 'older', async () => ({ version: '9' }));
        expect(await target.get(k)).toBe('"before"');
        await c.writeThrough(k, 'newer', async () => ({ version: '11' }));
        expect(await target.get(k)).toBe('"newer"');
        await c.writeThrough(`${ns}c:wt2`, { a: 1 }, async () => undefined);
        expect(await c.get(`${ns}c:wt2`)).toEqual({ a: 1 });
        await c.close();
      });

      it('invalidate removes keys and, with a version, leaves a tombstone', async () => {
        const c = client();
        await target.apply([refresh(`${ns}c:inv1`, '1', '1'), refresh(`${ns}c:inv2`, '2', '1')]);
        await c.invalidate([`${ns}c:inv1`, `${ns}c:inv2`], { version: '5' });
        expect(await target.get(`${ns}c:inv1`)).toBeNull();
        expect(outcomes(await target.apply([refresh(`${ns}c:inv2`, 'old', '4')]))).toEqual(['fenced']);
        await c.close();
      });

      it('stores compressed binary values and still reads plain JSON', async () => {
        const c = client({ codec: compressedJsonCodec({ minBytes: 64 }) });
        const big = {
          rows: Array.from({ length: 200 }, (_, i) => ({ i, text: 'lorem ipsum dolor sit amet' })),
        };
        expect(await c.getOrLoad(`${ns}c:gz`, async () => big)).toEqual(big);
        expect(await c.get(`${ns}c:gz`)).toEqual(big);
        await target.apply([refresh(`${ns}c:plain-json`, '{"x":1}', '1')]);
        expect(await c.get(`${ns}c:plain-json`)).toEqual({ x: 1 });
        await c.close();
      });
    });
  });
}
