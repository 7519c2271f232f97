/**
 * The engine's soft marks and tag state under a virtual clock (engine/soft-invalidation.ts,
 * engine/tags.ts): how long each lives, what clears it, and that expiry only ever removes more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, ManualClock } from '../../../engine/index.ts';

let engine: Engine;
let clock: ManualClock;
afterEach(() => engine?.close());

function setup(): void {
  clock = new ManualClock();
  engine = createEngine({ clock, tombstoneTtlMs: 1000, activeExpire: false });
}

describe('soft marks', () => {
  it('are cleared by any write, delete or expiry of the key, and by FLUSH', () => {
    setup();
    engine.refreshIfNewer('k', 'v', 500, '01');
    expect(engine.softInvalidate('k', '02')).toBe('applied');
    expect(engine.isStale('k')).toBe(true);
    expect(engine.ttl('k')).toBe(500); // the value keeps its TTL
    engine.set('k', 'plain');
    expect(engine.isStale('k')).toBe(false);
    expect(engine.softInvalidate('k', '03')).toBe('applied');
    engine.delete('k');
    engine.set('k', 'again');
    expect(engine.isStale('k')).toBe(false);
    engine.refreshIfNewer('e', 'v', 100, '01');
    engine.softInvalidate('e', '02');
    clock.advance(101);
    expect(engine.get('e')).toBeNull();
    expect(engine.core.staleMarks.has('e')).toBe(false);
    engine.refreshIfNewer('f', 'v', 0, '01');
    engine.softInvalidate('f', '02');
    engine.flush();
    expect(engine.core.staleMarks.size).toBe(0);
  });

  it('cancel the lease and wake waiters, so a load racing the change is rejected', async () => {
    setup();
    engine.refreshIfNewer('k', 'v1', 0, '01');
    const token = engine.acquireLease('k', 5000)!;
    const woken = engine.waitForFill('k', 5000);
    expect(engine.softInvalidate('k', '02')).toBe('applied');
    expect(await woken).toBe('cancelled');
    expect(engine.fillLease('k', token, 'loaded-before', 0)).toBe('rejected');
    expect(engine.get('k')).toBe('v1');
    expect(engine.isStale('k')).toBe(true);
  });
});

describe('tags', () => {
  it("a tag's epoch fences for the tombstone TTL; after it, a replay removes again (never less)", () => {
    setup();
    engine.joinTags('a', ['t'], 0);
    engine.set('a', '1');
    expect(engine.invalidateTag('t', '05')).toBe('applied');
    expect(engine.get('a')).toBeNull();
    const tags = engine.joinTags('b', ['t'], 0);
    expect(tags).toEqual([['t', '05']]);
    expect(engine.fillLease('b', engine.acquireLease('b', 5000)!, '2', 0, undefined, tags)).toBe('filled');
    engine.joinTags('c', ['t'], 0); // joined, then written without recording its tags
    engine.set('c', '3');
    expect(engine.invalidateTag('t', '05')).toBe('fenced');
    expect([engine.get('b'), engine.get('c')]).toEqual(['2', '3']);
    // The epoch expired: the replay is applied. b, filled current with 05, is fenced per key; c,
    // which recorded nothing, goes (an expired epoch removes more, never less).
    clock.advance(1001);
    expect(engine.invalidateTag('t', '05')).toBe('applied');
    expect([engine.get('b'), engine.get('c')]).toEqual(['2', null]);
  });

  it('members lapse with the entry they joined for, and a fill after the change is fenced per key', () => {
    setup();
    const [[, e0]] = engine.joinTags('a', ['t'], 200) as [[string, string]];
    const token = engine.acquireLease('a', 5000)!;
    expect(engine.invalidateTag('t', '07')).toBe('applied');
    expect(engine.fillLease('a', token, 'stale', 0, undefined, [['t', e0]])).toBe('rejected');
    const t2 = engine.acquireLease('a', 5000)!;
    expect(engine.fillLease('a', t2, 'stale', 0, undefined, [['t', e0]])).toBe('fenced');
    const [[, e1]] = engine.joinTags('a', ['t'], 200) as [[string, string]];
    const t3 = engine.acquireLease('a', 5000)!;
    expect(engine.fillLease('a', t3, 'fresh', 0, undefined, [['t', e1]])).toBe('filled');
    clock.advance(201); // a's membership lapsed: the next change does not reach it
    expect(engine.invalidateTag('t', '08')).toBe('applied');
    expect(engine.get('a')).toBe('fresh');
  });
});
