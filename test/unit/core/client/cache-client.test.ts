/**
 * The cache client's policy, over an in-memory store and a fake clock: single-flight, lease waits,
 * timeouts, stale serving, XFetch, jitter, cache outages and option validation.
 */
import { describe, expect, it } from 'vitest';
import { createCacheClient } from '../../../../core/client/cache-client.ts';
import type { CacheClientEvent } from '../../../../core/client/events.ts';
import { memoryStore } from '../../../support/memory-store.ts';

function setup(options: Parameters<typeof createCacheClient>[0] extends infer O ? Partial<O> : never = {}) {
  let t = 1_000_000;
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const store = memoryStore(clock.now);
  const events: CacheClientEvent[] = [];
  const client = createCacheClient({
    store,
    now: clock.now,
    sleep: async () => {},
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { clock, store, events, client, types: () => events.map((e) => e.type) };
}

describe('cache client', () => {
  it('single-flights concurrent calls in one process', async () => {
    const { client } = setup();
    let calls = 0;
    const loader = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return 'v';
    };
    const values = await Promise.all(Array.from({ length: 50 }, () => client.getOrLoad('k', loader)));
    expect(calls).toBe(1);
    expect(new Set(values)).toEqual(new Set(['v']));
  });

  it('stores with ttl + grace, and treats the grace as stale', async () => {
    const { client, store, clock, types } = setup({ ttlMs: 1000, staleWhileRevalidateMs: 500 });
    await client.getOrLoad('k', async () => 1);
    expect(store.values.get('k')!.expiresAt - clock.now()).toBe(1500);
    clock.advance(1200);
    let n = 1;
    expect(await client.getOrLoad('k', async () => ++n)).toBe(1);
    await client.close();
    expect(n).toBe(2);
    expect(types()).toEqual(['miss', 'load', 'fill', 'stale', 'load', 'fill']);
  });

  it('waits for another loader, then loads without filling after lockWaitTimeoutMs', async () => {
    const { client, store, clock, events } = setup({ lockWaitTimeoutMs: 100 });
    store.leases.set('k', { token: 'other', expiresAt: clock.now() + 60_000 });
    const sleep = async (ms: number) => void clock.advance(ms);
    const c2 = createCacheClient({
      store,
      now: clock.now,
      sleep,
      lockWaitTimeoutMs: 100,
      onEvent: (e) => events.push(e),
    });
    expect(await c2.getOrLoad('k', async () => 'direct')).toBe('direct');
    expect(events.find((e) => e.type === 'lock-wait')).toMatchObject({ outcome: 'timeout' });
    expect(store.values.has('k')).toBe(false);
    void client;
  });

  it('returns the value a concurrent loader filled while it waited', async () => {
    const { store, clock, events } = setup();
    store.leases.set('k', { token: 'other', expiresAt: clock.now() + 60_000 });
    let polls = 0;
    const sleep = async (ms: number) => {
      clock.advance(ms);
      if (++polls === 3) await store.fill('k', 'other', '"theirs"', 0);
    };
    const c = createCacheClient({ store, now: clock.now, sleep, onEvent: (e) => events.push(e) });
    let calls = 0;
    expect(
      await c.getOrLoad('k', async () => {
        calls++;
        return 'mine';
      }),
    ).toBe('theirs');
    expect(calls).toBe(0);
    expect(events.find((e) => e.type === 'lock-wait')).toMatchObject({ outcome: 'value' });
  });

  it('releases the lease when the loader throws, so the next caller can load', async () => {
    const { client, store } = setup();
    await expect(
      client.getOrLoad('k', async () => {
        throw new Error('db down');
      }),
    ).rejects.toThrow('db down');
    expect(store.leases.size).toBe(0);
    expect(await client.getOrLoad('k', async () => 'ok')).toBe('ok');
  });

  it('falls back to the loader when the cache is down', async () => {
    const { client, store, types } = setup();
    store.failWith = new Error('ECONNREFUSED');
    expect(await client.getOrLoad('k', async () => 'from-db')).toBe('from-db');
    expect(types()).toEqual(['cache-error']);
  });

  it('XFetch refreshes early near expiry, in the background', async () => {
    const { client, clock, types } = setup({ ttlMs: 1000, earlyRefreshBeta: 1, random: () => 0.01 });
    await client.getOrLoad('k', async () => {
      clock.advance(100);
      return 1;
    });
    clock.advance(900); // 100 ms left; Δ=100, -ln(0.01)≈4.6 → refresh early
    expect(await client.getOrLoad('k', async () => 2)).toBe(1);
    await client.close();
    expect(types()).toContain('early-refresh');
    expect(await client.getOrLoad('k', async () => 3)).toBe(2);
  });

  it('jitter shortens TTLs by up to the given share', async () => {
    const { client, store, clock } = setup({ ttlMs: 1000, jitter: 0.5, random: () => 0.999 });
    await client.getOrLoad('k', async () => 1);
    const ttl = store.values.get('k')!.expiresAt - clock.now();
    expect(ttl).toBeGreaterThanOrEqual(500);
    expect(ttl).toBeLessThanOrEqual(501);
  });

  it('invalidate cancels an in-flight fill and drops the in-process flight', async () => {
    const { client, store, types } = setup();
    const p = client.getOrLoad('k', async () => {
      await client.invalidate('k');
      return 'old';
    });
    expect(await p).toBe('old');
    expect(store.values.has('k')).toBe(false);
    expect(types()).toContain('lease-rejected');
  });

  it('rejects bad options with the fix', () => {
    const store = memoryStore(Date.now);
    expect(() => createCacheClient({ store, jitter: 1 })).toThrow('jitter must be in [0, 1)');
    expect(() => createCacheClient({ store, leaseTtlMs: 0 })).toThrow('leaseTtlMs must be > 0');
  });
});
