/**
 * Lease stores loaded on first use (core/targets/lazy-lease-stores.ts), as every backend's
 * `fillLeases()` / `shardLeases(scope)` returns them: the module loads once, at the first call that
 * needs it; calls are the real store's; a failed load fails that call and the next one tries again;
 * closing an unused store loads nothing; a near tracker that cannot load reports `down`.
 */
import { describe, expect, it } from 'vitest';
import type { TrackingSink } from '../../../../core/client/near-cache/tracker.ts';
import { engineLeaseStore } from '../../../../core/targets/engine/engine-fill-lease-store.ts';
import { engineShardLeaseStore } from '../../../../core/targets/engine/engine-shard-lease-store.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { lazyFillLeaseStore, lazyShardLeaseStore } from '../../../../core/targets/lazy-lease-stores.ts';

describe('lazy lease stores', () => {
  it('load the real fill-lease store once, at the first call, and behave as it does', async () => {
    const target = createEngineTarget();
    let loads = 0;
    const store = lazyFillLeaseStore({ kind: 'engine', wakes: true, tracks: true }, async () => {
      loads++;
      return engineLeaseStore(target.engine);
    });
    expect([store.kind, store.wakes, typeof store.nearTracker, loads]).toEqual([
      'engine',
      true,
      'function',
      0,
    ]);
    const token = await store.acquireLease('user:1', 1000);
    expect(token).toEqual(expect.any(String));
    expect(await store.acquireLease('user:1', 1000)).toBeNull();
    expect(await store.fill('user:1', token!, 'Ada', 60_000)).toBe('filled');
    expect((await store.read('user:1'))?.value.toString()).toBe('Ada');
    expect(loads).toBe(1);
    await store.close();
    await target.close();
  });

  it('close before any use loads nothing; a failed load fails its call and the next call retries', async () => {
    let loads = 0;
    const unused = lazyFillLeaseStore({ kind: 'engine', wakes: true, tracks: false }, async () => {
      loads++;
      throw new Error('never');
    });
    await unused.close();
    expect([loads, unused.nearTracker]).toEqual([0, undefined]);

    const target = createEngineTarget();
    let attempts = 0;
    const shards = lazyShardLeaseStore('stream-a', async () => {
      if (++attempts === 1) throw new Error('chunk not found');
      return engineShardLeaseStore(target.engine, 'stream-a');
    });
    await expect(shards.acquire('shard-1', 'w1', 1000)).rejects.toThrow('chunk not found');
    expect(await shards.acquire('shard-1', 'w1', 1000)).toBe(true);
    expect(await shards.holders(['shard-1'])).toEqual(new Map([['shard-1', 'w1']]));
    expect(attempts).toBe(2);
    await target.close();
  });

  it('refuse an empty shard scope at the call, before loading', () => {
    let loads = 0;
    expect(() =>
      lazyShardLeaseStore('', async () => {
        loads++;
        throw new Error('unreachable');
      }),
    ).toThrow(/empty scope/);
    expect(loads).toBe(0);
  });

  it('a near tracker whose store cannot load reports down, leaving the near cache bypassed', async () => {
    const store = lazyFillLeaseStore({ kind: 'engine', wakes: true, tracks: true }, async () => {
      throw new Error('chunk not found');
    });
    const heard: string[] = [];
    const sink: TrackingSink = {
      invalidate: () => heard.push('invalidate'),
      down: (reason) => heard.push(`down: ${reason}`),
      up: () => heard.push('up'),
    };
    store.nearTracker!().start(sink);
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual(['down: near tracker not loaded: chunk not found']);
  });
});
