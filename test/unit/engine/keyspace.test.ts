import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, ManualClock } from '../../../engine/index.ts';
import { Keyspace, Kind } from '../../../engine/keyspace.ts';

let engine: Engine;
afterEach(() => engine?.close());

function setup(): ManualClock {
  const clock = new ManualClock();
  engine = createEngine({ clock });
  return clock;
}

describe('engine keyspace', () => {
  it('stores text and bytes binary-safely and reads them back', () => {
    setup();
    engine.set('t', 'héllo ✓');
    expect(engine.get('t')).toBe('héllo ✓');
    expect(engine.getBuffer('t')).toEqual(Buffer.from('héllo ✓'));
    const bytes = Buffer.from([0, 255, 13, 10, 128, 0x24]);
    engine.set('b', bytes);
    expect(engine.getBuffer('b')).toEqual(bytes);
    engine.set('u', Buffer.from('ünïcode'));
    expect(engine.get('u')).toBe('ünïcode');
    expect(engine.get('missing')).toBeNull();
  });

  it('SET NX/XX/KEEPTTL behave like Valkey', () => {
    setup();
    expect(engine.set('k', 'a', { xx: true })).toBe(false);
    expect(engine.set('k', 'a', { nx: true })).toBe(true);
    expect(engine.set('k', 'b', { nx: true })).toBe(false);
    expect(engine.get('k')).toBe('a');
    engine.set('k', 'c', { ttlMs: 1000 });
    engine.set('k', 'd', { keepTtl: true });
    expect(engine.ttl('k')).toBe(1000);
    engine.set('k', 'e');
    expect(engine.ttl('k')).toBe(-1);
  });

  it('delete, has, size and keys(pattern)', () => {
    setup();
    engine.set('user:1', 'a');
    engine.set('user:2', 'b');
    engine.set('order:1', 'c');
    expect(engine.size).toBe(3);
    expect(engine.keys('user:*').sort()).toEqual(['user:1', 'user:2']);
    expect(engine.delete('user:1')).toBe(true);
    expect(engine.delete('user:1')).toBe(false);
    expect(engine.has('user:1')).toBe(false);
    expect(engine.size).toBe(2);
  });

  it('reuses freed slots without mixing values', () => {
    setup();
    for (let i = 0; i < 5000; i++) engine.set(`k${i}`, `v${i}`);
    for (let i = 0; i < 5000; i += 2) engine.delete(`k${i}`);
    for (let i = 0; i < 5000; i += 2) engine.set(`n${i}`, `w${i}`);
    for (let i = 1; i < 5000; i += 2) expect(engine.get(`k${i}`)).toBe(`v${i}`);
    for (let i = 0; i < 5000; i += 2) expect(engine.get(`n${i}`)).toBe(`w${i}`);
    expect(engine.size).toBe(5000);
  });
});

describe('engine TTLs (Valkey semantics, fake clock)', () => {
  it('a key expires once now passes its expiry (lazy on access)', () => {
    const clock = setup();
    engine.set('k', 'v', { ttlMs: 100 });
    clock.advance(100);
    expect(engine.get('k')).toBe('v');
    expect(engine.ttl('k')).toBe(0);
    clock.advance(1);
    expect(engine.get('k')).toBeNull();
    expect(engine.ttl('k')).toBe(-2);
    expect(engine.size).toBe(0);
  });

  it('absolute expiry, persist and expire(<=0) deletes', () => {
    const clock = setup();
    engine.set('k', 'v', { expireAt: clock.now() + 5000 });
    expect(engine.ttl('k')).toBe(5000);
    expect(engine.persist('k')).toBe(true);
    expect(engine.persist('k')).toBe(false);
    expect(engine.ttl('k')).toBe(-1);
    expect(engine.expire('k', 10)).toBe(true);
    expect(engine.ttl('k')).toBe(10);
    expect(engine.expire('k', 0)).toBe(true);
    expect(engine.has('k')).toBe(false);
    expect(engine.expire('nope', 10)).toBe(false);
  });

  it('active expiry removes expired keys nobody reads, and leaves live ones', () => {
    const clock = setup();
    for (let i = 0; i < 2000; i++) engine.set(`e${i}`, 'x', { ttlMs: 50 });
    for (let i = 0; i < 2000; i++) engine.set(`l${i}`, 'x', { ttlMs: 60_000 });
    for (let i = 0; i < 100; i++) engine.set(`p${i}`, 'x');
    clock.advance(60);
    let removed = 0;
    for (let i = 0; i < 50; i++) removed += engine.activeExpireCycle(1000);
    // Sampling stops once at most 25% of a sample is expired, like Valkey: most, not necessarily all.
    expect(removed).toBeGreaterThan(1000);
    expect(engine.core.keyspace.count).toBe(4100 - removed);
    // Lazy expiry drops the rest as soon as anything looks at them.
    for (let i = 0; i < 2000; i++) expect(engine.get(`e${i}`)).toBeNull();
    expect(engine.size).toBe(2100);
  });

  it('the active cycle runs on the clock timer', () => {
    const clock = setup();
    for (let i = 0; i < 100; i++) engine.set(`e${i}`, 'x', { ttlMs: 10 });
    clock.advance(1000);
    expect(engine.core.keyspace.count).toBeLessThan(100);
  });
});

describe('expiry cells while no key has a TTL', () => {
  it('are skipped only while volatileCount is 0, and never leave a stale TTL behind', () => {
    const clock = new ManualClock(1_700_000_000_000);
    const ks = new Keyspace(clock);
    const slotOf = (key: string): number => ks.index.get(key)! >>> 4;
    ks.setString('a', Kind.Bytes, '1', clock.now() + 1_000, clock.now());
    ks.setString('b', Kind.Bytes, '2', 0, clock.now());
    expect(ks.volatileCount).toBe(1);
    // SET without TTL over a key with one clears its cell, so it stays 0 once TTLs return.
    ks.setString('a', Kind.Bytes, '3', 0, clock.now());
    expect(ks.volatileCount).toBe(0);
    expect(ks.expireAt(slotOf('a'))).toBe(0);
    ks.setString('b', Kind.Bytes, '4', 0, clock.now());
    ks.setString('c', Kind.Bytes, '5', clock.now() + 500, clock.now());
    expect(ks.volatileCount).toBe(1);
    expect(ks.expireAt(slotOf('a'))).toBe(0);
    expect(ks.expireAt(slotOf('b'))).toBe(0);
    expect(ks.expireAt(slotOf('c'))).toBe(clock.now() + 500);
    ks.setExpire(slotOf('b'), clock.now() + 200);
    clock.advance(300);
    expect(ks.find('b', clock.now())).toBe(-1);
    expect(ks.find('a', clock.now())).toBeGreaterThanOrEqual(0);
    clock.advance(300);
    expect(ks.find('c', clock.now())).toBe(-1);
    expect(ks.volatileCount).toBe(0);
    expect(ks.find('a', clock.now())).toBeGreaterThanOrEqual(0);
  });
});
