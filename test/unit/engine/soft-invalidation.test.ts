/**
 * The engine's soft marks and tag state under a virtual clock (engine/soft-invalidation.ts,
 * engine/tags.ts): how long each lives, what clears it, and that expiry only ever removes more.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nextAppVersion as coreNextAppVersion } from '../../../core/event/version.ts';
import { createEngine, type Engine, ManualClock } from '../../../engine/index.ts';
import { nextAppVersion } from '../../../engine/tags.ts';

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

describe('app-side, soft and paged tag invalidations', () => {
  it('an app version sorts above the epoch and below every newer source version (same rule in core and engine)', () => {
    for (const epoch of ['', '0210', '0210.015', '0210+000000000007']) {
      const v = nextAppVersion(epoch);
      expect(coreNextAppVersion(epoch)).toBe(v);
      expect(v > epoch).toBe(true);
    }
    expect(nextAppVersion('0210')).toBe('0210+000000000001');
    expect(nextAppVersion('0210+000000000001')).toBe('0210+000000000002');
    // Newer source versions (11, 10.5) sort above it; the same (10) below.
    expect('0211' > nextAppVersion('0210')).toBe(true);
    expect('0210.015' > nextAppVersion('0210')).toBe(true);
    expect('0210' < nextAppVersion('0210')).toBe(true);
    expect('01' > nextAppVersion('')).toBe(true);
  });

  it('without a version a tag invalidation always applies; a newer source change still does, an older is fenced', () => {
    setup();
    engine.set('a', 'v');
    engine.joinTags('a', ['t'], 0);
    const page = engine.invalidateTagPage('t', '');
    expect(page).toEqual({ applied: true, version: '+000000000001', keys: ['a'], more: false });
    expect(engine.get('a')).toBeNull();
    expect(engine.invalidateTagPage('t', '').version).toBe('+000000000002');
    engine.set('a', 'v2');
    engine.joinTags('a', ['t'], 0);
    expect(engine.invalidateTag('t', '0105')).toBe('applied');
    expect(engine.get('a')).toBeNull();
    engine.set('a', 'v3');
    engine.joinTags('a', ['t'], 0);
    expect(engine.invalidateTagPage('t', '').version).toBe('0105+000000000001');
    engine.set('a', 'v4');
    engine.joinTags('a', ['t'], 0);
    expect(engine.invalidateTag('t', '0105')).toBe('fenced');
    expect(engine.get('a')).toBe('v4');
  });

  it('soft: keeps values, marks them stale at their own version, and keeps them members for a later hard change', () => {
    setup();
    engine.set('plain', 'p');
    engine.refreshIfNewer('versioned', 'v', 0, '0220');
    for (const k of ['plain', 'versioned']) engine.joinTags(k, ['t'], 0);
    expect(engine.invalidateTag('t', '0250', undefined, true)).toBe('applied');
    expect([
      engine.get('plain'),
      engine.isStale('plain'),
      engine.get('versioned'),
      engine.isStale('versioned'),
    ]).toEqual(['p', true, 'v', true]);
    expect(engine.invalidateTag('t', '0250', undefined, true)).toBe('fenced');
    engine.refreshIfNewer('versioned', 'v2', 0, '0221');
    expect(engine.isStale('versioned')).toBe(false);
    expect(engine.invalidateTag('t', '0260')).toBe('applied');
    expect([engine.get('plain'), engine.get('versioned')]).toEqual([null, null]);
  });

  it('pages never exceed their limit, and what a page leaves the next call (any version) finishes', () => {
    setup();
    for (let i = 0; i < 25; i++) {
      engine.set(`k${i}`, 'v');
      engine.joinTags(`k${i}`, ['t'], 0);
    }
    const first = engine.invalidateTagPage('t', '0210', { limit: 10 });
    expect([first.applied, first.keys.length, first.more]).toEqual([true, 10, true]);
    // A redelivery (fenced by the epoch) still drains the batch.
    const second = engine.invalidateTagPage('t', '0210', { limit: 10 });
    expect([second.applied, second.keys.length, second.more]).toEqual([true, 10, true]);
    const third = engine.invalidateTagPage('t', '0210', { limit: 10 });
    expect([third.keys.length, third.more]).toEqual([5, false]);
    expect(engine.invalidateTagPage('t', '0210', { limit: 10 })).toEqual({
      applied: false,
      version: '0210',
      keys: [],
      more: false,
    });
  });
});
