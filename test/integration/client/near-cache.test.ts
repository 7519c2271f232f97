/**
 * The near cache is kept true by the server: on the in-process engine (listeners), the engine server
 * and Valkey standalone and cluster (CLIENT TRACKING, RESP2 REDIRECT). Each case proves the near
 * copy was really served first (hit counted), then that a change made elsewhere is never served.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FillLeaseStore } from '../../../core/client/fill-lease-store.ts';
import {
  type CacheClient,
  createCacheClient,
  createNearCache,
  leaseStoreFor,
} from '../../../core/client/index.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices } from '../../setup/require-services.ts';
import { valkeyServices } from '../../support/conformance/services.ts';
import {
  NEAR_BACKENDS,
  type OpenBackend,
  privateValkeyBackend,
  uniqueKey,
} from '../../support/near-cache-backends.ts';
import { startOwnValkey } from '../../support/own-valkey.ts';

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function nearClient(store: FillLeaseStore): Promise<CacheClient> {
  const near = await createNearCache({ maxEntries: 1000, maxBytes: 1 << 20, ttlMs: 60_000 });
  const client = createCacheClient({ store, near, ttlMs: 60_000 });
  await until('tracking up', () => client.nearStats()?.tracking === 'up');
  return client;
}

/**
 * Reads `key` until it is served near (a store read installs it, the next read hits). More than two
 * reads happen when an invalidation of an earlier change of the key (our own fill) is still on its way.
 */
async function servedNear(client: CacheClient, key: string, expected: string): Promise<void> {
  const loader = async () => `loaded-${key}`;
  const hits = client.nearStats()!.hits;
  for (let i = 0; i < 50 && client.nearStats()!.hits === hits; i++) {
    expect(await client.getOrLoad(key, loader)).toBe(expected);
    await new Promise((r) => setTimeout(r, i));
  }
  expect(client.nearStats()!.hits).toBe(hits + 1);
}

for (const backend of NEAR_BACKENDS) {
  describe(`near cache on ${backend.name}`, () => {
    let b: OpenBackend;
    let client: CacheClient;
    beforeAll(async () => {
      b = await backend.open();
      client = await nearClient(b.store);
    });
    afterAll(async () => {
      await client?.close();
      await b?.close();
    });

    it("another client's write invalidates it", async () => {
      const key = uniqueKey('write');
      await b.write(key, JSON.stringify('v1'));
      await servedNear(client, key, 'v1');
      const seen = client.nearStats()!.invalidations;
      await b.write(key, JSON.stringify('v2'));
      await until('invalidation', () => client.nearStats()!.invalidations > seen);
      expect(await client.getOrLoad(key, async () => 'never')).toBe('v2');
    });

    it('expiry invalidates it', async () => {
      const key = uniqueKey('expire');
      await b.write(key, JSON.stringify('short'), 300);
      await servedNear(client, key, 'short');
      const seen = client.nearStats()!.invalidations;
      await new Promise((r) => setTimeout(r, 350));
      // Another client's read expires it on the server; the server's invalidation follows.
      expect(await b.read(key)).toBeNull();
      await until('expiry invalidation', () => client.nearStats()!.invalidations > seen);
      expect(await client.getOrLoad(key, async () => 'reloaded')).toBe('reloaded');
    });

    it('a CDC apply (invalidate op through the consumer target) invalidates it', async () => {
      const key = uniqueKey('cdc');
      await client.getOrLoad(key, async () => 'row@1', { version: () => '1' });
      await servedNear(client, key, 'row@1');
      const seen = client.nearStats()!.invalidations;
      const [result] = await b.cdc.apply([{ kind: 'invalidate', key, version: '2' }]);
      expect(result).toMatchObject({ ok: true });
      await until('CDC invalidation', () => client.nearStats()!.invalidations > seen);
      expect(await client.getOrLoad(key, async () => 'row@2')).toBe('row@2');
    });

    it('a soft invalidation drops it, and a soft-invalidated entry is never kept near', async () => {
      const key = uniqueKey('soft');
      await client.getOrLoad(key, async () => 'row@1', { version: () => '1' });
      await servedNear(client, key, 'row@1');
      const seen = client.nearStats()!.invalidations;
      const [result] = await b.cdc.apply([{ kind: 'softInvalidate', key, version: '2' }]);
      expect(result).toEqual({ ok: true, outcome: 'applied' });
      await until('soft invalidation', () => client.nearStats()!.invalidations > seen);
      // Marked before the tracked read: get answers the stale value but never installs it, so
      // every later read goes to the shared cache and sees the mark.
      const hits = client.nearStats()!.hits;
      for (let i = 0; i < 3; i++) expect(await client.get(key)).toBe('row@1');
      expect(client.nearStats()!.hits).toBe(hits);
      // Without stale-while-revalidate the stale entry is a miss: reloaded, and the reload is fresh.
      expect(await client.getOrLoad(key, async () => 'row@2')).toBe('row@2');
      await servedNear(client, key, 'row@2');
    });

    it("a tag invalidation empties it for the tagged keys: the client's own before it resolves, a soft one from the CDC through tracking", async () => {
      const tg = uniqueKey('tag');
      const [k1, k2] = [uniqueKey('tag-a'), uniqueKey('tag-b')];
      await client.getOrLoad(k1, async () => 'a@1', { tags: [tg] });
      await client.getOrLoad(k2, async () => 'b@1', { tags: [tg] });
      await servedNear(client, k1, 'a@1');
      await servedNear(client, k2, 'b@1');
      const done = await client.invalidateTag(tg);
      expect([...done.keys].sort()).toEqual([k1, k2].sort());
      // Not one more near hit: the keys were dropped before invalidateTag resolved.
      const hits = client.nearStats()!.hits;
      expect(await client.getOrLoad(k1, async () => 'a@2', { tags: [tg] })).toBe('a@2');
      expect(await client.getOrLoad(k2, async () => 'b@2')).toBe('b@2');
      expect(client.nearStats()!.hits).toBe(hits);
      await servedNear(client, k1, 'a@2');
      const seen = client.nearStats()!.invalidations;
      const [result] = await b.cdc.apply([{ kind: 'invalidateTag', tag: tg, version: '7', soft: true }]);
      expect(result).toEqual({ ok: true, outcome: 'applied' });
      await until('soft tag invalidation', () => client.nearStats()!.invalidations > seen);
      // Stale now: answered from the shared cache, never kept near.
      const before = client.nearStats()!.hits;
      for (let i = 0; i < 3; i++) expect(await client.get(k1)).toBe('a@2');
      expect(client.nearStats()!.hits).toBe(before);
      expect(await client.getOrLoad(k1, async () => 'a@3', { tags: [tg] })).toBe('a@3');
      await servedNear(client, k1, 'a@3');
    });

    it('a read in flight when the key changes never installs the older value', async () => {
      const key = uniqueKey('race');
      await b.write(key, JSON.stringify('old'));
      // A client whose tracked read is held after its reply arrived, until we release it.
      let release!: () => void;
      let replied!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const gotReply = new Promise<void>((r) => (replied = r));
      let hold = true;
      const held: FillLeaseStore = {
        ...b.store,
        nearTracker: () => {
          const t = b.store.nearTracker!();
          return {
            ...t,
            start: (s) => t.start(s),
            close: () => t.close(),
            read: async (k) => {
              const entry = await t.read(k);
              if (hold && k === key) {
                replied();
                await gate;
              }
              return entry;
            },
          };
        },
      };
      const racer = await nearClient(held);
      try {
        const reading = racer.getOrLoad(key, async () => 'never');
        await gotReply; // the tracked read has the old value in hand
        const seen = racer.nearStats()!.invalidations;
        await b.write(key, JSON.stringify('new'));
        await until('invalidation during the read', () => racer.nearStats()!.invalidations > seen);
        release();
        expect(await reading).toBe('old'); // served to that caller: it was read before the change
        hold = false;
        const hits = racer.nearStats()!.hits;
        expect(await racer.getOrLoad(key, async () => 'never')).toBe('new');
        expect(racer.nearStats()!.hits).toBe(hits); // not a near hit: the old value was not installed
      } finally {
        release();
        await racer.close();
      }
    });

    if (backend.resp) {
      it('CLIENT KILL of the invalidation connection empties it before it serves again', async () => {
        const key = uniqueKey('kill');
        await b.write(key, JSON.stringify('before'));
        await servedNear(client, key, 'before');
        const node = b.raw!(key);
        const list = String(await node.call('CLIENT', 'LIST'));
        const ids = [...list.matchAll(/id=(\d+) .*name=cdc-cache-near-invalidations /g)].map((m) => m[1]!);
        expect(ids.length).toBeGreaterThan(0);
        const resets = client.nearStats()!.resets;
        for (const id of ids) await node.call('CLIENT', 'KILL', 'ID', id);
        // Written while the invalidation channel is gone: this invalidation is lost.
        await b.write(key, JSON.stringify('after'));
        await until('reset', () => client.nearStats()!.resets > resets);
        await until('tracking up again', () => client.nearStats()!.tracking === 'up');
        expect(await client.getOrLoad(key, async () => 'never')).toBe('after');
      });
    }
  });
}

describe('a flush empties the near cache (private servers only)', () => {
  const flushes: { name: string; open: () => Promise<OpenBackend & { flush(): Promise<void> }> }[] = [
    {
      name: 'engine in-process',
      async open() {
        const b = await NEAR_BACKENDS[0]!.open();
        const engine = (b.target as unknown as { engine: { flush(): void } }).engine;
        return { ...b, flush: async () => engine.flush() };
      },
    },
    {
      name: 'engine server',
      async open() {
        const b = await NEAR_BACKENDS[1]!.open();
        return { ...b, flush: async () => void (await b.raw!('x').flushall()) };
      },
    },
    {
      name: 'private valkey-server',
      async open() {
        const own = await startOwnValkey();
        const b = await privateValkeyBackend(own.url, () => own.stop());
        return { ...b, flush: async () => void (await b.raw!('x').flushall()) };
      },
    },
  ];
  for (const f of flushes) {
    it(`FLUSHALL on ${f.name}`, async () => {
      const b = await f.open();
      const client = await nearClient(b.store);
      try {
        const keys = [uniqueKey('flush'), uniqueKey('flush')];
        for (const key of keys) {
          await b.write(key, JSON.stringify(key));
          await servedNear(client, key, key);
        }
        expect(client.nearStats()!.entries).toBe(2);
        const seen = client.nearStats()!.invalidations;
        await b.flush();
        await until('flush invalidation', () => client.nearStats()!.invalidations > seen);
        expect(client.nearStats()!.entries).toBe(0);
        for (const key of keys) expect(await client.getOrLoad(key, async () => 'gone')).toBe('gone');
      } finally {
        await client.close();
        await b.close();
      }
    });
  }
});

describe('near cache over TLS with an ACL user (the harness TLS server)', () => {
  it('tracks through TLS connections duplicated with the same credentials', async () => {
    requireServices('valkey-tls');
    const { tlsUrl, tlsCa } = valkeyServices();
    const tls = { ca: readFileSync(tlsCa) };
    const target = await createValkeyTarget({ url: tlsUrl, tls });
    const cdc = await createValkeyTarget({ url: tlsUrl, tls });
    const client = await nearClient(leaseStoreFor(target));
    try {
      const key = uniqueKey('tls');
      await cdc.apply([{ kind: 'refresh', key, value: JSON.stringify('v1'), ttlMs: 60_000, version: '1' }]);
      await servedNear(client, key, 'v1');
      const seen = client.nearStats()!.invalidations;
      await cdc.apply([{ kind: 'refresh', key, value: JSON.stringify('v2'), ttlMs: 60_000, version: '2' }]);
      await until('invalidation over TLS', () => client.nearStats()!.invalidations > seen);
      expect(await client.getOrLoad(key, async () => 'never')).toBe('v2');
    } finally {
      await client.close();
      await cdc.close();
      await target.close();
    }
  });
});
