/**
 * The balancing capabilities every shard lease store serves (heartbeats, holders, a conditional
 * steal), as one contract each store's test runs: file, the cache target (every kind), DynamoDB.
 */
import { expect, it } from 'vitest';
import type { ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';
import { waitFor } from './consumers.ts';

/** Two views of one stream's leases (two workers' stores). */
export type OpenPair = () => Promise<{ a: ShardLeaseStore; b: ShardLeaseStore }>;

/** Defines the contract's tests; `shortTtlMs` is a TTL the test waits out. */
export function leaseBalancingContract(open: OpenPair, shortTtlMs = 150): void {
  it('heartbeats: live workers are listed; an expired one drops out; leave removes at once', async () => {
    const { a, b } = await open();
    await a.heartbeat('w1', 60_000);
    await b.heartbeat('w2', shortTtlMs);
    expect(await a.liveWorkers()).toEqual(['w1', 'w2']);
    // Expiry by the store's own rule (server TTL, file time, or a counter unchanged for the TTL).
    await waitFor(
      'w2 to drop out',
      async () => JSON.stringify(await a.liveWorkers()) === '["w1"]',
      30_000,
      Math.max(20, shortTtlMs / 3),
    );
    await b.heartbeat('w2', 60_000);
    expect(await a.liveWorkers()).toEqual(['w1', 'w2']);
    await a.leave('w1');
    expect(await b.liveWorkers()).toEqual(['w2']);
  });

  it('holders: who holds each shard; free shards are absent', async () => {
    const { a, b } = await open();
    expect(await a.acquire('s1', 'w1', 60_000)).toBe(true);
    expect(await b.acquire('s2', 'w2', 60_000)).toBe(true);
    expect(await a.holders(['s1', 's2', 's3'])).toEqual(
      new Map([
        ['s1', 'w1'],
        ['s2', 'w2'],
      ]),
    );
    await b.release('s2', 'w2');
    expect(await a.holders(['s1', 's2'])).toEqual(new Map([['s1', 'w1']]));
  });

  it('steal moves a lease only from its holder; the victim cannot renew or checkpoint after it', async () => {
    const { a, b } = await open();
    expect(await a.acquire('s1', 'w1', 60_000)).toBe(true);
    expect(await a.setCheckpoint('s1', 'w1', { sequenceNumber: '100' })).toBe(true);
    expect(await b.steal('s1', 'someone-else', 'w2', 60_000)).toBe(false);
    expect(await b.steal('s1', 'w1', 'w2', 60_000)).toBe(true);
    expect(await a.renew('s1', 'w1', 60_000)).toBe(false);
    expect(await a.setCheckpoint('s1', 'w1', { sequenceNumber: '999' })).toBe(false);
    expect(await b.holders(['s1'])).toEqual(new Map([['s1', 'w2']]));
    // The thief resumes from the victim's last checkpoint and moves it on.
    expect(await b.checkpoint('s1')).toEqual({ sequenceNumber: '100' });
    expect(await b.setCheckpoint('s1', 'w2', { sequenceNumber: '200' })).toBe(true);
    expect(await a.checkpoint('s1')).toEqual({ sequenceNumber: '200' });
  });
}
