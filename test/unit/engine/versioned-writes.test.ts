import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type EngineEvent, ManualClock } from '../../../engine/index.ts';

let engine: Engine;
let clock: ManualClock;
afterEach(() => engine?.close());

function setup(): void {
  clock = new ManualClock();
  engine = createEngine({ clock, tombstoneTtlMs: 1000 });
}

describe('versioned writes', () => {
  it('refreshIfNewer applies newer versions and fences equal or older ones', () => {
    setup();
    expect(engine.refreshIfNewer('k', 'v2', 0, '02')).toBe('applied');
    expect(engine.refreshIfNewer('k', 'v1', 0, '01')).toBe('fenced');
    expect(engine.refreshIfNewer('k', 'v2-again', 0, '02')).toBe('fenced');
    expect(engine.get('k')).toBe('v2');
    expect(engine.refreshIfNewer('k', 'v3', 500, '03')).toBe('applied');
    expect(engine.get('k')).toBe('v3');
    expect(engine.ttl('k')).toBe(500);
    expect(engine.versionOf('k')).toBe('03');
  });

  it('invalidate leaves a tombstone that hides the value and fences older refreshes', () => {
    setup();
    engine.refreshIfNewer('k', 'v1', 0, '01');
    expect(engine.invalidate('k', '02')).toBe('applied');
    expect(engine.get('k')).toBeNull();
    expect(engine.has('k')).toBe(false);
    expect(engine.size).toBe(0);
    expect(engine.keys()).toEqual([]);
    expect(engine.dump()).toEqual({});
    expect(engine.refreshIfNewer('k', 'late', 0, '01')).toBe('fenced');
    expect(engine.invalidate('k', '02')).toBe('fenced');
    expect(engine.refreshIfNewer('k', 'v3', 0, '03')).toBe('applied');
    expect(engine.get('k')).toBe('v3');
  });

  it('an invalidate of an absent key still fences, until the tombstone expires', () => {
    setup();
    expect(engine.invalidate('k', '05')).toBe('applied');
    expect(engine.refreshIfNewer('k', 'old', 0, '04')).toBe('fenced');
    clock.advance(1001);
    expect(engine.refreshIfNewer('k', 'old', 0, '04')).toBe('applied');
  });

  it('an older invalidate never removes a newer value', () => {
    setup();
    engine.refreshIfNewer('k', 'v5', 0, '05');
    expect(engine.invalidate('k', '04')).toBe('fenced');
    expect(engine.get('k')).toBe('v5');
  });

  it('a plain SET keeps the fencing version', () => {
    setup();
    engine.invalidate('k', '05');
    engine.set('k', 'filled');
    expect(engine.get('k')).toBe('filled');
    expect(engine.refreshIfNewer('k', 'stale', 0, '04')).toBe('fenced');
  });

  it('invalidatePrefix tombstones matching keys and fences keys created later', () => {
    setup();
    engine.refreshIfNewer('t:1', 'a', 0, '01');
    engine.refreshIfNewer('t:2', 'b', 0, '01');
    engine.refreshIfNewer('u:1', 'c', 0, '01');
    expect(engine.invalidatePrefix('t:', '02')).toBe(2);
    expect(engine.dump()).toEqual({ 'u:1': 'c' });
    expect(engine.refreshIfNewer('t:3', 'late', 0, '01')).toBe('fenced');
    expect(engine.refreshIfNewer('t:3', 'new', 0, '03')).toBe('applied');
  });

  it('tombstoneTtlMs 0 drops the key without a tombstone', () => {
    setup();
    engine.refreshIfNewer('k', 'v', 0, '01');
    expect(engine.invalidate('k', '02', 0)).toBe('applied');
    expect(engine.core.keyspace.count).toBe(0);
  });

  it('listeners see writes, invalidations, deletes and expiries', () => {
    setup();
    const seen: EngineEvent[] = [];
    for (const t of ['write', 'invalidate', 'delete', 'expire'] as const) engine.on(t, (e) => seen.push(e));
    engine.set('a', '1', { ttlMs: 10 });
    engine.invalidate('b', '07');
    engine.set('c', '1');
    engine.delete('c');
    clock.advance(11);
    engine.get('a');
    expect(seen).toEqual([
      { type: 'write', key: 'a' },
      { type: 'invalidate', key: 'b', version: '07' },
      { type: 'write', key: 'c' },
      { type: 'delete', key: 'c' },
      { type: 'expire', key: 'a' },
    ]);
  });

  it('a throwing listener never undoes the write', () => {
    const errors: unknown[] = [];
    clock = new ManualClock();
    engine = createEngine({ clock, onListenerError: (e) => errors.push(e) });
    engine.on('write', () => {
      throw new Error('boom');
    });
    engine.set('k', 'v');
    expect(engine.get('k')).toBe('v');
    expect(errors).toHaveLength(1);
  });
});
