/**
 * SSCAN, ZSCAN and HSCAN cursors. Small collections (intset/listpack) come in one page whatever
 * COUNT says, byte for byte as Valkey answers; large ones page by COUNT, and on both Valkey and the
 * engine every element present for the whole scan is returned although the collection is edited
 * between pages (members removed and added, scores and values changed), also when more scans run
 * at once than the engine keeps live iterators for; MATCH filters and HSCAN NOVALUES drops values.
 */
import type { Valkey } from 'iovalkey';
import { describe, expect, it } from 'vitest';
import { compareSteps } from '../../support/parity-steps.ts';
import { withClient, withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

type Kind = 'set' | 'zset' | 'hash';

/** One page of a scan: [next cursor, member names] (values and scores dropped). */
async function page(
  c: Valkey,
  kind: Kind,
  key: string,
  cursor: string,
  extra: string[],
): Promise<[string, string[]]> {
  const cmd = kind === 'set' ? 'sscan' : kind === 'zset' ? 'zscan' : 'hscan';
  const [next, items] = (await c.call(cmd, key, cursor, ...extra)) as [string, string[]];
  const names = kind === 'set' || extra.includes('NOVALUES') ? items : items.filter((_, i) => i % 2 === 0);
  return [next, names];
}

async function fill(c: Valkey, kind: Kind, key: string, names: string[]): Promise<void> {
  await c.del(key);
  for (let i = 0; i < names.length; i += 500) {
    const chunk = names.slice(i, i + 500);
    if (kind === 'set') await c.sadd(key, ...chunk);
    else if (kind === 'zset') await c.zadd(key, ...chunk.flatMap((m, j) => [String(i + j), m]));
    else await c.hset(key, ...chunk.flatMap((f) => [f, `v-${f}`]));
  }
}

async function remove(c: Valkey, kind: Kind, key: string, names: string[]): Promise<void> {
  if (kind === 'set') await c.srem(key, ...names);
  else if (kind === 'zset') await c.zrem(key, ...names);
  else await c.hdel(key, ...names);
}

/** Changes an element in place: a new score, a new value (a set has nothing to change). */
async function update(c: Valkey, kind: Kind, key: string, name: string): Promise<void> {
  if (kind === 'zset') await c.zincrby(key, 1_000_000, name);
  else if (kind === 'hash') await c.hset(key, name, 'changed');
}

/** A deterministic pseudo-random sequence (tests are repeatable). */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

describe('small collections come in one page, as Valkey answers', () => {
  it('SSCAN, ZSCAN and HSCAN of intset/listpack collections ignore COUNT', async () => {
    await compareSteps(servers.valkey.port, servers.engine.port, [
      'SADD si 5 3 9 1',
      'SSCAN si 0 COUNT 1',
      'SADD sl a b c d e',
      'SSCAN sl 0 COUNT 2',
      'SSCAN sl 0 COUNT 2 MATCH [ab]',
      'SSCAN sl 17 COUNT 2',
      'ZADD zl 1 a 2 b 3 c',
      'ZSCAN zl 0 COUNT 1',
      'ZSCAN zl 0 MATCH b',
      'HSET hl f1 v1 f2 v2 f3 v3',
      'HSCAN hl 0 COUNT 1',
      'HSCAN hl 0 COUNT 1 NOVALUES',
      'HSCAN hl 0 MATCH f2',
      `HSET h500 ${Array.from({ length: 500 }, (_, i) => `f${i} v${i}`).join(' ')}`,
      'OBJECT ENCODING h500',
      'HSCAN h500 0 COUNT 10 MATCH f49*',
      'HSET h500 f500 v500 f501 v501 f502 v502 f503 v503 f504 v504 f505 v505 f506 v506 f507 v507 f508 v508 f509 v509 f510 v510 f511 v511 f512 v512',
      'OBJECT ENCODING h500',
      'SSCAN nokey 0 COUNT 1',
      'SSCAN sl x',
      'SSCAN sl 0 COUNT 0',
      'HSCAN hl 0 COUNT x',
    ]);
  });
});

describe.each(['valkey', 'engine'] as const)('large collections page by COUNT on %s', (target) => {
  const port = () => (target === 'valkey' ? servers.valkey.port : servers.engine.port);
  const names = Array.from({ length: 3000 }, (_, i) => `member:${i}`);

  it.each(['set', 'zset', 'hash'] as const)(
    '%s: a full scan returns every element, in pages',
    async (kind) => {
      await withClient(port(), async (c) => {
        const key = `scan:full:${kind}`;
        await fill(c, kind, key, names);
        const seen = new Set<string>();
        let cursor = '0';
        let pages = 0;
        do {
          const [next, got] = await page(c, kind, key, cursor, ['COUNT', '50']);
          expect(got.length).toBeLessThanOrEqual(200);
          for (const n of got) seen.add(n);
          cursor = next;
          pages++;
        } while (cursor !== '0');
        expect(pages).toBeGreaterThan(10);
        expect(seen.size).toBe(names.length);
        await c.del(key);
      });
    },
  );

  it.each(['set', 'zset', 'hash'] as const)(
    '%s: edits between pages never hide an element present throughout (1 scan, then 7 at once)',
    async (kind) => {
      await withClient(port(), async (c) => {
        for (const parallel of [1, 7]) await editedScans(c, kind, parallel);
      });
    },
  );

  /** Scans `parallel` times at once while elements are removed, updated and added between pages. */
  async function editedScans(c: Valkey, kind: Kind, parallel: number): Promise<void> {
    const key = `scan:edit:${kind}`;
    await fill(c, kind, key, names);
    const random = rng(kind.length);
    const removed = new Set<string>();
    let added = 0;
    // One scan goes on with the engine's live iterator; seven interleaved scans are more than
    // the iterators it keeps per collection, so their pages resume from the cursor arithmetic.
    const scans = Array.from({ length: parallel }, () => ({
      cursor: '0',
      seen: new Set<string>(),
      done: false,
    }));
    let started = false;
    while (!started || scans.some((s) => !s.done)) {
      started = true;
      for (const s of scans) {
        if (s.done) continue;
        const [next, got] = await page(c, kind, key, s.cursor, ['COUNT', '37']);
        for (const n of got) s.seen.add(n);
        s.cursor = next;
        if (next === '0') s.done = true;
      }
      const gone = Array.from({ length: 9 }, () => names[Math.floor(random() * names.length)]!);
      await remove(c, kind, key, gone);
      for (const g of gone) removed.add(g);
      await update(c, kind, key, names[Math.floor(random() * names.length)]!);
      await fill2(c, kind, key, [`new:${added++}`, `new:${added++}`]);
    }
    const throughout = names.filter((n) => !removed.has(n));
    expect(throughout.length).toBeGreaterThan(1000);
    for (const s of scans) expect(throughout.filter((n) => !s.seen.has(n))).toEqual([]);
    await c.del(key);
  }

  it('MATCH filters each page; HSCAN NOVALUES returns fields only', async () => {
    await withClient(port(), async (c) => {
      await fill(c, 'hash', 'scan:match', names);
      const seen: string[] = [];
      let cursor = '0';
      do {
        const [next, items] = (await c.call(
          'hscan',
          'scan:match',
          cursor,
          'MATCH',
          'member:1*',
          'COUNT',
          '100',
          'NOVALUES',
        )) as [string, string[]];
        for (const f of items) {
          expect(f).toMatch(/^member:1/);
          seen.push(f);
        }
        cursor = next;
      } while (cursor !== '0');
      expect(new Set(seen)).toEqual(new Set(names.filter((n) => n.startsWith('member:1'))));
      await c.del('scan:match');
    });
  });
});

/** Adds elements without deleting the key first. */
async function fill2(c: Valkey, kind: Kind, key: string, more: string[]): Promise<void> {
  if (kind === 'set') await c.sadd(key, ...more);
  else if (kind === 'zset') await c.zadd(key, ...more.flatMap((m) => ['0', m]));
  else await c.hset(key, ...more.flatMap((f) => [f, 'x']));
}
