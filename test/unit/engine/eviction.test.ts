import { afterEach, describe, expect, it } from 'vitest';
import {
  createEngine,
  type Engine,
  EngineErrorCode,
  type EvictionPolicyValue,
  ManualClock,
} from '../../../engine/index.ts';
import { LFU_INIT_VAL, lfuMinutes } from '../../../engine/keyspace.ts';
import { mulberry32 } from '../../support/seeded-random.ts';

let engine: Engine;
afterEach(() => engine?.close());

const VALUE = 'v'.repeat(100);

/** An engine whose limit is reached after roughly `keys` keys of VALUE. */
function limited(policy: EvictionPolicyValue, keys: number, clock = new ManualClock()): Engine {
  const probe = createEngine({ clock, activeExpire: false, maxmemoryPolicy: policy });
  const base = probe.usedMemory;
  probe.set('k:00000', VALUE);
  const perKey = probe.usedMemory - base;
  probe.close();
  engine = createEngine({
    clock,
    activeExpire: false,
    maxmemory: base + perKey * keys,
    maxmemoryPolicy: policy,
    random: mulberry32(42),
  });
  return engine;
}

describe('maxmemory', () => {
  it('noeviction refuses writes with Valkey OOM once over the limit; reads and deletes still work', () => {
    limited('noeviction', 100);
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      try {
        engine.set(`k:${String(i).padStart(5, '0')}`, VALUE);
      } catch (e) {
        expect(e).toMatchObject({
          code: EngineErrorCode.OutOfMemory,
          message: "OOM command not allowed when used memory > 'maxmemory'.",
          retriable: true,
        });
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(90);
    expect(engine.get('k:00000')).toBe(VALUE);
    expect(engine.delete('k:00000')).toBe(true);
  });

  it('allkeys-lru keeps recently used keys and stays under the limit', () => {
    const clock = new ManualClock();
    limited('allkeys-lru', 200, clock);
    for (let i = 0; i < 200; i++) engine.set(`old:${String(i).padStart(4, '0')}`, VALUE);
    clock.advance(10_000);
    for (let i = 0; i < 20; i++) engine.get(`old:${String(i).padStart(4, '0')}`);
    clock.advance(10_000);
    for (let i = 0; i < 150; i++) engine.set(`new:${String(i).padStart(4, '0')}`, VALUE);
    expect(engine.usedMemory).toBeLessThanOrEqual(engine.core.maxmemory + 1000);
    const hotSurvivors = Array.from({ length: 20 }, (_, i) =>
      engine.has(`old:${String(i).padStart(4, '0')}`),
    ).filter(Boolean).length;
    const coldSurvivors = Array.from({ length: 180 }, (_, i) =>
      engine.has(`old:${String(i + 20).padStart(4, '0')}`),
    ).filter(Boolean).length;
    // Sampled LRU (5 candidates, like Valkey) is approximate: hot keys survive far more often.
    expect(hotSurvivors / 20).toBeGreaterThan(coldSurvivors / 180 + 0.3);
  });

  it('volatile-lru evicts only keys with a TTL, and refuses when none is left', () => {
    limited('volatile-lru', 100);
    for (let i = 0; i < 50; i++) engine.set(`p:${String(i).padStart(3, '0')}`, VALUE);
    for (let i = 0; i < 50; i++) engine.set(`t:${String(i).padStart(3, '0')}`, VALUE, { ttlMs: 60_000 });
    for (let i = 0; i < 30; i++) engine.set(`x:${String(i).padStart(3, '0')}`, VALUE);
    for (let i = 0; i < 50; i++) expect(engine.has(`p:${String(i).padStart(3, '0')}`)).toBe(true);
    expect(() => {
      for (let i = 30; i < 200; i++) engine.set(`x:${String(i).padStart(3, '0')}`, VALUE);
    }).toThrow(/OOM/);
  });

  it('volatile-ttl evicts the keys closest to expiry first', () => {
    limited('volatile-ttl', 100);
    for (let i = 0; i < 100; i++)
      engine.set(`t:${String(i).padStart(3, '0')}`, VALUE, { ttlMs: 1000 + i * 1000 });
    for (let i = 0; i < 20; i++) engine.set(`n:${String(i).padStart(3, '0')}`, VALUE);
    const shortLived = Array.from({ length: 30 }, (_, i) =>
      engine.has(`t:${String(i).padStart(3, '0')}`),
    ).filter(Boolean).length;
    const longLived = Array.from({ length: 30 }, (_, i) =>
      engine.has(`t:${String(i + 70).padStart(3, '0')}`),
    ).filter(Boolean).length;
    expect(longLived).toBeGreaterThan(shortLived);
  });

  it('allkeys-lfu keeps frequently used keys', () => {
    limited('allkeys-lfu', 200);
    for (let i = 0; i < 200; i++) engine.set(`k:${String(i).padStart(4, '0')}`, VALUE);
    for (let r = 0; r < 200; r++) for (let i = 0; i < 20; i++) engine.get(`k:${String(i).padStart(4, '0')}`);
    for (let i = 0; i < 150; i++) engine.set(`n:${String(i).padStart(4, '0')}`, VALUE);
    const hot = Array.from({ length: 20 }, (_, i) => engine.has(`k:${String(i).padStart(4, '0')}`)).filter(
      Boolean,
    ).length;
    const cold = Array.from({ length: 180 }, (_, i) =>
      engine.has(`k:${String(i + 20).padStart(4, '0')}`),
    ).filter(Boolean).length;
    expect(hot / 20).toBeGreaterThan(cold / 180 + 0.3);
  });

  it('evictions are reported to listeners and tombstones are evicted first', () => {
    limited('allkeys-lru', 50);
    const evicted: string[] = [];
    engine.on('evict', (e) => evicted.push(e.key));
    for (let i = 0; i < 100; i++) engine.set(`k:${String(i).padStart(4, '0')}`, VALUE);
    expect(evicted.length).toBeGreaterThan(40);
  });

  it('rejects an unknown policy at construction', () => {
    expect(() => createEngine({ maxmemoryPolicy: 'lru' as EvictionPolicyValue })).toThrow(
      /unknown maxmemoryPolicy/,
    );
  });
});

describe('LFU decay', () => {
  it('an idle key loses one count per minute, so old favourites can be evicted', () => {
    const clock = new ManualClock();
    engine = createEngine({ clock, activeExpire: false, maxmemoryPolicy: 'allkeys-lfu' });
    engine.set('k', 'v');
    for (let i = 0; i < 2000; i++) engine.get('k');
    const ks = engine.core.keyspace;
    const slot = ks.find('k', clock.now());
    const minutes = () => ((clock.now() / 60_000) >>> 0) & 0xffffff;
    const hot = ks.lfuCounter(slot, minutes());
    expect(hot).toBeGreaterThan(10);
    clock.advance(5 * 60_000);
    expect(ks.lfuCounter(slot, minutes())).toBe(hot - 5);
    clock.advance(300 * 60_000);
    expect(ks.lfuCounter(slot, minutes())).toBe(0);
  });

  it('lfu-decay-time sets the minutes per decrement (0: no decay), lfu-log-factor the growth', () => {
    const clock = new ManualClock();
    engine = createEngine({ clock, activeExpire: false, maxmemoryPolicy: 'allkeys-lfu' });
    const ks = engine.core.keyspace;
    ks.lfuLogFactor = 0;
    engine.set('k', 'v');
    const slot = ks.find('k', clock.now());
    const minutes = () => lfuMinutes(clock.now());
    expect(ks.lfuCounter(slot, minutes())).toBe(LFU_INIT_VAL);
    for (let i = 0; i < 45; i++) engine.get('k');
    expect(ks.lfuCounter(slot, minutes())).toBe(50);
    ks.lfuDecayTime = 10;
    clock.advance(35 * 60_000);
    expect(ks.lfuCounter(slot, minutes())).toBe(47);
    ks.lfuDecayTime = 0;
    clock.advance(10_000 * 60_000);
    expect(ks.lfuCounter(slot, minutes())).toBe(50);
    ks.lfuDecayTime = 1;
    engine.get('k'); // decays (by 10,035 idle minutes: to 0) and then counts the access
    expect(ks.lfuCounter(slot, minutes())).toBe(1);
    ks.lfuLogFactor = 10;
    ks.random = () => 0.5; // p = 1 / ((c - 5) * 10 + 1): 1 below 6, 1/11 at 6
    for (let i = 0; i < 6; i++) engine.get('k');
    expect(ks.lfuCounter(slot, minutes())).toBe(6);
    ks.random = () => 0.05;
    engine.get('k');
    expect(ks.lfuCounter(slot, minutes())).toBe(7);
  });
});
