/**
 * The near cache's own rules, with a scripted tracker (the real trackers are tested against real
 * servers in test/integration/client/near-cache.test.ts): bounds, the TTL cap, the per-read token,
 * the tracking epoch, bypass while down, flush, and what the client installs.
 */
import { describe, expect, it } from 'vitest';
import {
  createCacheClient,
  createNearCache,
  engineLeaseStore,
  type FillLeaseStore,
  type NearTracker,
  type StoredEntry,
  type TrackingSink,
} from '../../../../core/client/index.ts';
import { createEngine } from '../../../../engine/engine.ts';

/** A tracker over an engine whose reads and sink the test drives by hand. */
function scripted(store: FillLeaseStore) {
  let sink!: TrackingSink;
  const held: (() => void)[] = [];
  let hold = false;
  const tracker: NearTracker = {
    kind: 'scripted',
    async read(key): Promise<StoredEntry | null> {
      const entry = await store.read(key);
      if (hold) await new Promise<void>((r) => held.push(r));
      return entry;
    },
    start(s) {
      sink = s;
    },
    close: async () => {},
  };
  return {
    store: { ...store, nearTracker: () => tracker } as FillLeaseStore,
    sink: () => sink,
    hold: (on: boolean) => {
      hold = on;
    },
    release: () => {
      for (const r of held.splice(0)) r();
    },
  };
}

async function setup(options: Parameters<typeof createNearCache>[0] = {}) {
  const engine = createEngine();
  const s = scripted(engineLeaseStore(engine));
  const near = await createNearCache(options);
  const client = createCacheClient({ store: s.store, near, ttlMs: 0 });
  s.sink().up();
  const read = async (key: string) => client.getOrLoad(key, async () => `loaded:${key}`);
  return { engine, client, near, read, ...s };
}

describe('near cache', () => {
  it('serves a tracked fresh read locally, counting hits and misses', async () => {
    const { engine, client, read } = await setup();
    engine.set('k', JSON.stringify('v'));
    expect(await read('k')).toBe('v');
    engine.set('k', JSON.stringify('changed behind its back')); // the scripted tracker says nothing
    expect(await read('k')).toBe('v');
    expect(client.nearStats()).toMatchObject({ hits: 1, misses: 1, entries: 1, tracking: 'up' });
  });

  it('never installs a value loaded and filled (untracked), only one read back through the tracker', async () => {
    const { client, read } = await setup();
    expect(await read('x')).toBe('loaded:x');
    expect(client.nearStats()!.entries).toBe(0);
    expect(await read('x')).toBe('loaded:x');
    expect(client.nearStats()!.entries).toBe(1);
  });

  it('an invalidation during a read marks it: the older value is served to that caller, not installed', async () => {
    const { engine, client, read, sink, hold, release } = await setup();
    engine.set('k', JSON.stringify('old'));
    hold(true);
    const reading = read('k');
    await new Promise((r) => setTimeout(r, 5));
    engine.set('k', JSON.stringify('new'));
    sink().invalidate(['k']);
    hold(false);
    release();
    expect(await reading).toBe('old');
    expect(client.nearStats()!.entries).toBe(0);
    expect(await read('k')).toBe('new');
  });

  it('tracking down empties and bypasses it; a read that started before the loss is not installed', async () => {
    const { engine, client, read, sink, hold, release } = await setup();
    engine.set('a', JSON.stringify('a1'));
    engine.set('b', JSON.stringify('b1'));
    await read('a');
    hold(true);
    const reading = read('b');
    await new Promise((r) => setTimeout(r, 5));
    sink().down('test');
    expect(client.nearStats()).toMatchObject({ entries: 0, tracking: 'down', resets: 1 });
    sink().up();
    hold(false);
    release();
    await reading;
    expect(client.nearStats()!.entries).toBe(0);
    sink().down('again');
    engine.set('a', JSON.stringify('a2'));
    expect(await read('a')).toBe('a2'); // bypassed: straight to the store
    expect(client.nearStats()!.bypassed).toBeGreaterThan(0);
    expect(client.nearStats()!.entries).toBe(0);
  });

  it('a flush (null) empties it', async () => {
    const { engine, client, read, sink } = await setup();
    for (const k of ['a', 'b']) {
      engine.set(k, JSON.stringify(k));
      await read(k);
    }
    expect(client.nearStats()!.entries).toBe(2);
    sink().invalidate(null);
    expect(client.nearStats()).toMatchObject({ entries: 0, invalidations: 1 });
  });

  it('is bounded by entries and by bytes', async () => {
    const { engine, client, read } = await setup({ maxEntries: 3, maxBytes: 1000 });
    for (let i = 0; i < 5; i++) {
      engine.set(`k${i}`, JSON.stringify(i));
      await read(`k${i}`);
    }
    expect(client.nearStats()!.entries).toBe(3);
    const big = await setup({ maxEntries: 100, maxBytes: 250 });
    for (let i = 0; i < 5; i++) {
      big.engine.set(`k${i}`, JSON.stringify('x'.repeat(100)));
      await big.read(`k${i}`);
    }
    expect(big.client.nearStats()!.bytes).toBeLessThanOrEqual(250);
    expect(big.client.nearStats()!.entries).toBe(2);
  });

  it('keeps an entry no longer than its TTL cap nor its life in the shared cache', async () => {
    const { engine, client, read } = await setup({ ttlMs: 60_000 });
    engine.set('short', JSON.stringify('s'), { ttlMs: 40 });
    await read('short');
    expect(client.nearStats()!.entries).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(await read('short')).toBe('loaded:short');
  });

  it('writeThrough and invalidate drop the key locally at once', async () => {
    const { engine, client, read } = await setup();
    engine.set('k', JSON.stringify('v1'));
    await read('k');
    await client.writeThrough('k', 'v2', async () => {});
    expect(client.nearStats()!.entries).toBe(0);
    await read('k');
    await client.invalidate('k');
    expect(client.nearStats()!.entries).toBe(0);
  });

  it('rejects bad options and a second client', async () => {
    await expect(createNearCache({ maxEntries: 0 })).rejects.toThrow(/maxEntries must be a positive integer/);
    const { near, store } = await setup();
    expect(() => createCacheClient({ store, near })).toThrow(/already attached/);
  });

  it('refuses a store that cannot track', async () => {
    const near = await createNearCache();
    const { nearTracker: _, ...untracked } = engineLeaseStore(createEngine());
    expect(() => createCacheClient({ store: untracked, near })).toThrow(/needs a store that tracks changes/);
  });
});
