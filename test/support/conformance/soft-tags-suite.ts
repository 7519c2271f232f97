/**
 * Conformance of soft invalidation and tags (docs/soft-invalidation-and-tags.md), registered by
 * suite.ts inside each target's describe: the same specification on every target.
 */
import { describe, expect, it } from 'vitest';
import { type CacheClientOptions, createCacheClient } from '../../../core/client/cache-client.ts';
import type { FillLeaseStore } from '../../../core/client/fill-lease-store.ts';
import type { CacheOp } from '../../../core/targets/cache-op.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';

/** What the suite shares with these tests (set in its beforeAll). */
export interface SoftTagsContext {
  ns: string;
  target(): CacheTarget;
  store(): FillLeaseStore;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const refresh = (key: string, value: string, version: string): CacheOp => ({
  kind: 'refresh',
  key,
  value,
  ttlMs: 0,
  version,
});
const soft = (key: string, version: string): CacheOp => ({ kind: 'softInvalidate', key, version });
const tag = (name: string, version: string): CacheOp => ({ kind: 'invalidateTag', tag: name, version });
const outcomes = (rs: { ok: boolean; outcome?: string; error?: Error }[]) =>
  rs.map((r) => (r.ok ? r.outcome : `failed: ${r.error?.message}`));

/** Registers the soft-invalidation and tag specifications. */
export function describeSoftAndTags(ctx: SoftTagsContext): void {
  const client = (options: Partial<CacheClientOptions> = {}) =>
    createCacheClient({ store: ctx.store(), ...options });
  const stale = async (key: string) => (await ctx.store().read(key))?.stale === true;

  describe('soft invalidation', () => {
    it('marks the value stale and keeps it plain; fenced by version; a newer refresh clears the mark', async () => {
      const t = ctx.target();
      const k = `${ctx.ns}s:mark`;
      expect(outcomes(await t.apply([refresh(k, '"v1"', '10')]))).toEqual(['applied']);
      expect(await stale(k)).toBe(false);
      expect(outcomes(await t.apply([soft(k, '11')]))).toEqual(['applied']);
      expect(await t.get(k)).toBe('"v1"'); // a plain GET still sees exactly the bytes
      expect(await stale(k)).toBe(true);
      expect(outcomes(await t.apply([soft(k, '11'), soft(k, '9')]))).toEqual(['fenced', 'fenced']);
      expect(outcomes(await t.apply([refresh(k, '"old"', '10')]))).toEqual(['fenced']);
      expect(outcomes(await t.apply([refresh(k, '"v2"', '12')]))).toEqual(['applied']);
      expect(await stale(k)).toBe(false);
      // A late older soft invalidation never marks the newer value stale.
      expect(outcomes(await t.apply([soft(k, '11')]))).toEqual(['fenced']);
      expect(await stale(k)).toBe(false);
      expect(await t.get(k)).toBe('"v2"');
    });

    it('on an absent key it is an invalidate: a tombstone that fences older refreshes', async () => {
      const t = ctx.target();
      const k = `${ctx.ns}s:absent`;
      expect(outcomes(await t.apply([soft(k, '5')]))).toEqual(['applied']);
      expect(await t.get(k)).toBeNull();
      expect(outcomes(await t.apply([refresh(k, '"late"', '4')]))).toEqual(['fenced']);
      expect(await t.get(k)).toBeNull();
    });

    it('a client without staleWhileRevalidate misses; its fill clears the mark and is never marked by an older change', async () => {
      const t = ctx.target();
      const c = client();
      const k = `${ctx.ns}s:miss`;
      let n = 0;
      const loader = async () => ++n;
      expect(await c.getOrLoad(k, loader)).toBe(1);
      expect(outcomes(await t.apply([soft(k, '30')]))).toEqual(['applied']);
      expect(await c.getOrLoad(k, loader)).toBe(2); // stale → a miss → loaded again
      expect(await stale(k)).toBe(false); // the (unversioned) fill cleared the mark
      expect(await c.getOrLoad(k, loader)).toBe(2);
      expect(outcomes(await t.apply([soft(k, '30')]))).toEqual(['fenced']); // a redelivery
      expect(await stale(k)).toBe(false);
      // A versioned fill newer than a late soft invalidation stays fresh.
      const kv = `${ctx.ns}s:versioned`;
      expect(await c.getOrLoad(kv, async () => 'row@20', { version: () => '20' })).toBe('row@20');
      expect(outcomes(await t.apply([soft(kv, '15')]))).toEqual(['fenced']);
      expect(await stale(kv)).toBe(false);
      await c.close();
    });

    it('with staleWhileRevalidate: every caller gets the stale value while exactly one reloads', async () => {
      const t = ctx.target();
      const k = `${ctx.ns}s:swr`;
      const seed = client();
      expect(await seed.getOrLoad(k, async () => 'v1')).toBe('v1');
      expect(outcomes(await t.apply([soft(k, '40')]))).toEqual(['applied']);
      let loads = 0;
      const loader = async () => {
        loads++;
        await sleep(150);
        return 'v2';
      };
      // Four clients stand for four processes: one fill lease between them.
      const clients = Array.from({ length: 4 }, () => client({ staleWhileRevalidate: true }));
      const served = await Promise.all(
        clients.flatMap((c) => Array.from({ length: 5 }, () => c.getOrLoad(k, loader))),
      );
      expect(new Set(served)).toEqual(new Set(['v1']));
      await Promise.all(clients.map((c) => c.close())); // waits for the background reload
      expect(loads).toBe(1);
      expect(await t.get(k)).toBe('"v2"');
      expect(await stale(k)).toBe(false);
      // Per call, too.
      expect(outcomes(await t.apply([soft(k, '41')]))).toEqual(['applied']);
      expect(await seed.getOrLoad(k, loader, { staleWhileRevalidate: true })).toBe('v2');
      await seed.close();
      expect(loads).toBe(2);
    });
  });

  describe('tags', () => {
    it('invalidateTag removes every entry tagged with it and nothing else; untagged values stay plain', async () => {
      const t = ctx.target();
      const c = client();
      const [t1, t2] = [`${ctx.ns}tag:1`, `${ctx.ns}tag:2`];
      const [a, b, d, u] = ['a', 'b', 'd', 'u'].map((x) => `${ctx.ns}t:${x}`) as [
        string,
        string,
        string,
        string,
      ];
      await c.getOrLoad(a, async () => ({ a: 1 }), { tags: [t1] });
      await c.getOrLoad(b, async () => ({ b: 1 }), { tags: [t1, t2] });
      await c.getOrLoad(d, async () => ({ d: 1 }), { tags: [t2] });
      await c.getOrLoad(u, async () => ({ u: 1 }));
      expect(await t.get(a)).toBe('{"a":1}'); // tagged values are plain too
      expect(outcomes(await t.apply([tag(t1, '10')]))).toEqual(['applied']);
      expect([await t.get(a), await t.get(b), await t.get(d), await t.get(u)]).toEqual([
        null,
        null,
        '{"d":1}',
        '{"u":1}',
      ]);
      expect(outcomes(await t.apply([tag(t1, '10'), tag(t1, '9')]))).toEqual(['fenced', 'fenced']);
      expect(outcomes(await t.apply([tag(t2, '11')]))).toEqual(['applied']);
      expect(await t.get(d)).toBeNull();
      expect(await t.get(u)).toBe('{"u":1}');
      const dump = await t.dump();
      expect(Object.keys(dump).filter((x) => x.startsWith(ctx.ns) && x.includes(':t:'))).toEqual([u]);
      await c.close();
    });

    it('a tag change during the load rejects the fill; a late older change never removes a newer fill', async () => {
      const t = ctx.target();
      const c = client();
      const tg = `${ctx.ns}tag:race`;
      const k = `${ctx.ns}t:race`;
      const value = await c.getOrLoad(
        k,
        async () => {
          // The row changes after the load read it: the pipeline invalidates the tag meanwhile.
          expect(outcomes(await t.apply([tag(tg, '20')]))).toEqual(['applied']);
          return 'read-before-the-change';
        },
        { tags: [tg] },
      );
      expect(value).toBe('read-before-the-change'); // the caller still gets its value …
      expect(await t.get(k)).toBeNull(); // … but the cache is not filled with it
      expect(await c.getOrLoad(k, async () => 'after', { tags: [tg] })).toBe('after');
      expect(await t.get(k)).toBe('"after"');
      // Redelivered and older changes of the tag: fenced, the newer fill stays.
      expect(outcomes(await t.apply([tag(tg, '20'), tag(tg, '19')]))).toEqual(['fenced', 'fenced']);
      expect(await t.get(k)).toBe('"after"');
      expect(outcomes(await t.apply([tag(tg, '21')]))).toEqual(['applied']);
      expect(await t.get(k)).toBeNull();
      await c.close();
    });

    it("the app's invalidateTag without a version always applies, and a later change from the source still does", async () => {
      const t = ctx.target();
      const c = client();
      const tg = `${ctx.ns}tag:app`;
      const [a, b, u] = ['a', 'b', 'u'].map((x) => `${ctx.ns}ta:${x}`) as [string, string, string];
      await c.getOrLoad(a, async () => 'a1', { tags: [tg] });
      await c.getOrLoad(b, async () => 'b1', { tags: [tg] });
      await c.getOrLoad(u, async () => 'u1');
      const first = await c.invalidateTag(tg);
      expect(first.outcome).toBe('applied');
      expect([...first.keys].sort()).toEqual([a, b].sort());
      expect([await t.get(a), await t.get(b), await t.get(u)]).toEqual([null, null, '"u1"']);
      // Nothing tagged any more: it still applies (moves the tag on), removing nothing.
      expect(await c.invalidateTag(tg)).toEqual({ outcome: 'applied', keys: [] });
      // A change from the source after the app's invalidations is newer than them.
      await c.getOrLoad(a, async () => 'a2', { tags: [tg] });
      expect(outcomes(await t.apply([tag(tg, '5')]))).toEqual(['applied']);
      expect(await t.get(a)).toBeNull();
      // The app again, then the source's change redelivered: fenced, the newer fill stays.
      await c.getOrLoad(a, async () => 'a3', { tags: [tg] });
      expect((await c.invalidateTag(tg)).keys).toEqual([a]);
      await c.getOrLoad(a, async () => 'a4', { tags: [tg] });
      expect(outcomes(await t.apply([tag(tg, '5')]))).toEqual(['fenced']);
      expect(await t.get(a)).toBe('"a4"');
      // A versioned app invalidation is fenced like the rules' ops; invalidateTags takes several.
      expect(await c.invalidateTag(tg, { version: '5' })).toEqual({ outcome: 'fenced', keys: [] });
      expect(await t.get(a)).toBe('"a4"');
      const t2 = `${ctx.ns}tag:app2`;
      await c.getOrLoad(b, async () => 'b2', { tags: [t2] });
      const both = await c.invalidateTags([tg, t2], { version: '6' });
      expect(both.map((r) => [r.outcome, r.keys])).toEqual([
        ['applied', [a]],
        ['applied', [b]],
      ]);
      expect([await t.get(a), await t.get(b), await t.get(u)]).toEqual([null, null, '"u1"']);
      await c.close();
    });

    it("a soft tag invalidation (a rule's or softInvalidateTag) marks tagged entries stale: stale-while-revalidate serves them while one reloads", async () => {
      const t = ctx.target();
      const tg = `${ctx.ns}tag:soft`;
      const [k1, k2, k3] = ['1', '2', '3'].map((x) => `${ctx.ns}ts:${x}`) as [string, string, string];
      const seed = client();
      await seed.getOrLoad(k1, async () => 'v1', { tags: [tg] });
      await seed.getOrLoad(k2, async () => 'w1', { tags: [tg] });
      await seed.getOrLoad(k3, async () => 'row@20', { tags: [tg], version: () => '20' });
      const softTag: CacheOp = { kind: 'invalidateTag', tag: tg, version: '50', soft: true };
      expect(outcomes(await t.apply([softTag]))).toEqual(['applied']);
      // The values stay, plain, and marked stale (an unversioned and a versioned entry alike).
      expect([await t.get(k1), await t.get(k2), await t.get(k3)]).toEqual(['"v1"', '"w1"', '"row@20"']);
      expect([await stale(k1), await stale(k2), await stale(k3)]).toEqual([true, true, true]);
      expect(outcomes(await t.apply([softTag, { ...softTag, version: '49' }]))).toEqual(['fenced', 'fenced']);
      let loads = 0;
      const loader = async () => {
        loads++;
        await sleep(150);
        return 'v2';
      };
      const swr = { staleWhileRevalidate: true, tags: [tg] } as const;
      const clients = Array.from({ length: 4 }, () => client());
      const served = await Promise.all(
        clients.flatMap((c) => Array.from({ length: 5 }, () => c.getOrLoad(k1, loader, swr))),
      );
      expect(new Set(served)).toEqual(new Set(['v1']));
      await Promise.all(clients.map((c) => c.close())); // waits for the background reload
      expect(loads).toBe(1);
      expect([await t.get(k1), await stale(k1)]).toEqual(['"v2"', false]);
      // Without stale-while-revalidate a stale entry is a miss.
      expect(await seed.getOrLoad(k2, async () => 'w2', { tags: [tg] })).toBe('w2');
      expect(await stale(k2)).toBe(false);
      // A newer refresh of a marked entry clears the mark.
      expect(outcomes(await t.apply([refresh(k3, '"row@21"', '21')]))).toEqual(['applied']);
      expect(await stale(k3)).toBe(false);
      // The app's soft invalidation: the entries the rule marked stayed members (k3), the reloaded
      // ones joined again.
      const soft = await seed.softInvalidateTag(tg);
      expect(soft.outcome).toBe('applied');
      expect([...soft.keys].sort()).toEqual([k1, k2, k3].sort());
      expect(await stale(k3)).toBe(true);
      expect([await t.get(k1), await stale(k1), await stale(k2)]).toEqual(['"v2"', true, true]);
      expect(await seed.getOrLoad(k1, async () => 'v3', swr)).toBe('v2');
      await seed.close(); // the background reload
      expect([await t.get(k1), await stale(k1)]).toEqual(['"v3"', false]);
      // A hard change of the tag removes what a soft one marked (k2, k3: still stale) and the reload (k1).
      expect(outcomes(await t.apply([tag(tg, '60')]))).toEqual(['applied']);
      expect([await t.get(k1), await t.get(k2), await t.get(k3)]).toEqual([null, null, null]);
    });

    it('writeThrough with tags: removed by the tag; a tag change during the write fences it', async () => {
      const t = ctx.target();
      const c = client();
      const tg = `${ctx.ns}tag:wt`;
      const k = `${ctx.ns}t:wt`;
      await c.writeThrough(k, { n: 1 }, async () => undefined, { tags: [tg] });
      expect(await t.get(k)).toBe('{"n":1}');
      expect(outcomes(await t.apply([tag(tg, '30')]))).toEqual(['applied']);
      expect(await t.get(k)).toBeNull();
      await c.writeThrough(
        k,
        { n: 2 },
        async () => {
          expect(outcomes(await t.apply([tag(tg, '31')]))).toEqual(['applied']);
        },
        { tags: [tg] },
      );
      expect(await t.get(k)).toBeNull();
      await c.writeThrough(k, { n: 3 }, async () => undefined, { tags: [tg] });
      expect(await t.get(k)).toBe('{"n":3}');
      await c.close();
    });
  });
}
