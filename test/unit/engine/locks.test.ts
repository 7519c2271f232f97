import { afterEach, describe, expect, it } from 'vitest';
import { createEngine, type Engine, ManualClock } from '../../../engine/index.ts';

let engine: Engine;
let clock: ManualClock;
afterEach(() => engine?.close());

function setup(): void {
  clock = new ManualClock();
  engine = createEngine({ clock });
}

describe('lock keys', () => {
  it('acquire is NX + PX, release and extend compare the token', () => {
    setup();
    expect(engine.acquireLock('lock:a', 't1', 1000)).toBe(true);
    expect(engine.acquireLock('lock:a', 't2', 1000)).toBe(false);
    expect(engine.get('lock:a')).toBe('t1');
    expect(engine.releaseLock('lock:a', 't2')).toBe(false);
    expect(engine.extendLock('lock:a', 't2', 5000)).toBe(false);
    expect(engine.extendLock('lock:a', 't1', 5000)).toBe(true);
    expect(engine.ttl('lock:a')).toBe(5000);
    expect(engine.releaseLock('lock:a', 't1')).toBe(true);
    expect(engine.acquireLock('lock:a', 't2', 1000)).toBe(true);
  });

  it('a lock expires with its TTL', () => {
    setup();
    engine.acquireLock('l', 't1', 100);
    clock.advance(101);
    expect(engine.acquireLock('l', 't2', 100)).toBe(true);
  });

  it('waiters wake on release, without polling', async () => {
    setup();
    engine.acquireLock('l', 't1', 60_000);
    const waiting = engine.waitForUnlock('l', 10_000);
    expect(clock.pendingTimers).toBeGreaterThan(0);
    engine.releaseLock('l', 't1');
    await expect(waiting).resolves.toBe(true);
  });

  it('waiters wake when the lock TTL ends, and time out when bounded', async () => {
    setup();
    engine.acquireLock('l', 't1', 500);
    const freed = engine.waitForUnlock('l', 10_000);
    await Promise.resolve();
    clock.advance(501);
    await expect(freed).resolves.toBe(true);
    engine.acquireLock('l', 't2', 60_000);
    const bounded = engine.waitForUnlock('l', 1000);
    await Promise.resolve();
    clock.advance(1001);
    await expect(bounded).resolves.toBe(false);
  });

  it('a free lock resolves at once', async () => {
    setup();
    await expect(engine.waitForUnlock('none', 10)).resolves.toBe(true);
  });
});

describe('fill leases', () => {
  it('one lease per key; fill under the lease writes and wakes waiters', async () => {
    setup();
    const token = engine.acquireLease('k', 1000);
    expect(token).toBeTypeOf('string');
    expect(engine.acquireLease('k', 1000)).toBeNull();
    const waiter = engine.waitForFill('k', 5000);
    expect(engine.fillLease('k', token!, 'v', 0)).toBe('filled');
    await expect(waiter).resolves.toBe('filled');
    expect(engine.get('k')).toBe('v');
    expect(engine.fillLease('k', token!, 'again', 0)).toBe('rejected');
  });

  it('an invalidation cancels the lease and the fill is rejected', async () => {
    setup();
    const token = engine.acquireLease('k', 1000)!;
    const waiter = engine.waitForFill('k', 5000);
    engine.invalidate('k', '09');
    await expect(waiter).resolves.toBe('cancelled');
    expect(engine.fillLease('k', token, 'stale', 0)).toBe('rejected');
    expect(engine.get('k')).toBeNull();
    expect(engine.acquireLease('k', 1000)).not.toBeNull();
  });

  it('a refresh and a delete cancel the lease too', () => {
    setup();
    const t1 = engine.acquireLease('k', 1000)!;
    engine.refreshIfNewer('k', 'fresh', 0, '05');
    expect(engine.fillLease('k', t1, 'stale', 0)).toBe('rejected');
    expect(engine.get('k')).toBe('fresh');
    const t2 = engine.acquireLease('k', 1000)!;
    engine.delete('k');
    expect(engine.fillLease('k', t2, 'stale', 0)).toBe('rejected');
  });

  it('invalidatePrefix cancels leases under the prefix', () => {
    setup();
    const t = engine.acquireLease('p:1', 1000)!;
    engine.invalidatePrefix('p:', '03');
    expect(engine.fillLease('p:1', t, 'stale', 0)).toBe('rejected');
  });

  it('an expired lease is rejected, and a versioned fill is fenced by a newer version', () => {
    setup();
    const t = engine.acquireLease('k', 100)!;
    clock.advance(101);
    expect(engine.fillLease('k', t, 'late', 0)).toBe('rejected');
    engine.refreshIfNewer('k', 'v5', 0, '05');
    const t2 = engine.acquireLease('k', 100)!;
    expect(engine.fillLease('k', t2, 'v4', 0, '04')).toBe('fenced');
    expect(engine.get('k')).toBe('v5');
  });

  it('release wakes waiters; waits are bounded', async () => {
    setup();
    const t = engine.acquireLease('k', 1000)!;
    const w = engine.waitForFill('k', 5000);
    engine.releaseLease('k', t);
    await expect(w).resolves.toBe('released');
    const bounded = engine.waitForFill('k', 200);
    clock.advance(201);
    await expect(bounded).resolves.toBe('timeout');
  });
});
