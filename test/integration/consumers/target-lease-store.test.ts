/**
 * The DynamoDB shard lease store kept in the cache target, one contract run against every target
 * kind of the conformance suite (engine in-process, engine over RESP, Valkey standalone, 3-master
 * cluster, TLS + ACL user): acquire is exclusive, an expired lease is taken over (server-side PX
 * TTL), renew / setCheckpoint / release by a non-holder change nothing, the finished set works in a
 * cluster, a checkpoint outlives the lease that wrote it, and the balancing contract
 * (lease-balancing-contract.ts: heartbeats, holders, steal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetLeaseStore } from '../../../consumers/dynamodb/target-lease-store.ts';
import { versionSortKey } from '../../../core/event/version.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineRemoteTarget } from '../../../core/targets/engine-remote/engine-remote-target.ts';
import { finishedKey, shardKeys } from '../../../core/targets/shard-lease-keys.ts';
import type { ShardLeaseStore } from '../../../core/targets/shard-lease-store.ts';
import { keySlot } from '../../../core/targets/valkey/slots.ts';
import { startEngineServer } from '../../../engine/server/server.ts';
import { CONFORMANCE_TARGETS, openSpec } from '../../support/conformance/targets.ts';
import { waitFor } from '../../support/consumers.ts';
import { leaseBalancingContract } from '../../support/lease-balancing-contract.ts';

const SHORT_TTL_MS = 150;

for (const t of CONFORMANCE_TARGETS) {
  describe(`target lease store: ${t.name}`, () => {
    let target: CacheTarget;
    let n = 0;
    // A fresh stream scope per test: the shared Valkey keeps keys of earlier runs.
    const scope = () =>
      `arn:aws:dynamodb:us-east-1:000000000000:table/lt/stream/${Date.now()}-${process.pid}-${n++}`;

    beforeAll(async () => {
      target = await openSpec(await t.setup(), 60_000);
    });
    afterAll(async () => {
      await target?.close();
      await t.teardown();
    });

    it('acquire is exclusive; the holder renews, others cannot', async () => {
      const s = createTargetLeaseStore(target, scope());
      expect(await s.acquire('shard-1', 'a', 10_000)).toBe(true);
      expect(await s.acquire('shard-1', 'b', 10_000)).toBe(false);
      expect(await s.acquire('shard-1', 'a', 10_000)).toBe(true); // already ours
      expect(await s.renew('shard-1', 'a', 10_000)).toBe(true);
      expect(await s.renew('shard-1', 'b', 10_000)).toBe(false);
      // Another shard is independent.
      expect(await s.acquire('shard-2', 'b', 10_000)).toBe(true);
    });

    it('an expired lease is taken over, and the former holder can no longer renew or checkpoint', async () => {
      const sc = scope();
      const a = createTargetLeaseStore(target, sc);
      const b = createTargetLeaseStore(target, sc);
      expect(await a.acquire('s', 'a', SHORT_TTL_MS)).toBe(true);
      expect(await a.setCheckpoint('s', 'a', { sequenceNumber: '100' })).toBe(true);
      await waitFor('the lease to expire and b to take it', () => b.acquire('s', 'b', 10_000), 10_000, 20);
      expect(await a.renew('s', 'a', 10_000)).toBe(false);
      expect(await a.setCheckpoint('s', 'a', { sequenceNumber: '999' })).toBe(false);
      expect(await b.checkpoint('s')).toEqual({ sequenceNumber: '100' });
      expect(await b.setCheckpoint('s', 'b', { sequenceNumber: '200' })).toBe(true);
      expect(await a.checkpoint('s')).toEqual({ sequenceNumber: '200' });
    });

    it('setCheckpoint and release by a non-holder change nothing', async () => {
      const sc = scope();
      const a = createTargetLeaseStore(target, sc);
      const b = createTargetLeaseStore(target, sc);
      expect(await b.setCheckpoint('s', 'b', { sequenceNumber: '1' })).toBe(false); // nobody holds it
      expect(await a.acquire('s', 'a', 10_000)).toBe(true);
      expect(await b.setCheckpoint('s', 'b', { sequenceNumber: '2' })).toBe(false);
      expect(await b.checkpoint('s')).toEqual({});
      await b.release('s', 'b');
      expect(await b.acquire('s', 'b', 10_000)).toBe(false); // still a's
      await a.release('s', 'a');
      expect(await b.acquire('s', 'b', 10_000)).toBe(true);
      expect(await a.setCheckpoint('s', 'a', { sequenceNumber: '3' })).toBe(false);
      expect(await b.checkpoint('s')).toEqual({});
    });

    it('checkpoints merge; finished shards are listed; the checkpoint survives its lease', async () => {
      const sc = scope();
      const s = createTargetLeaseStore(target, sc);
      for (const id of ['shard-a', 'shard-b', 'shard-c'])
        expect(await s.acquire(id, 'w', SHORT_TTL_MS)).toBe(true);
      expect(await s.setCheckpoint('shard-a', 'w', { sequenceNumber: '41' })).toBe(true);
      expect(await s.setCheckpoint('shard-a', 'w', { finished: true })).toBe(true);
      expect(await s.setCheckpoint('shard-c', 'w', { sequenceNumber: '7', finished: true })).toBe(true);
      expect(await s.setCheckpoint('shard-b', 'w', { sequenceNumber: '5' })).toBe(true);
      // A shard closed before a first start at LATEST: finished unread, and its children start at LATEST.
      expect(await s.acquire('shard-d', 'w', SHORT_TTL_MS)).toBe(true);
      expect(await s.setCheckpoint('shard-d', 'w', { finished: true, skipped: true })).toBe(true);
      expect([...(await s.finished())].sort()).toEqual(['shard-a', 'shard-c', 'shard-d']);
      // Leases expire; checkpoints stay (a fresh store, as a restarted worker would open).
      const fresh = createTargetLeaseStore(target, sc);
      await waitFor('the leases to expire', () => fresh.acquire('shard-b', 'x', 10_000), 10_000, 20);
      expect(await fresh.checkpoint('shard-a')).toEqual({ sequenceNumber: '41', finished: true });
      expect(await fresh.checkpoint('shard-b')).toEqual({ sequenceNumber: '5' });
      expect(await fresh.checkpoint('shard-d')).toEqual({ finished: true, skipped: true });
      // Another stream's keys never collide.
      const other = createTargetLeaseStore(target, scope());
      expect(await other.finished()).toEqual(new Set());
      expect(await other.checkpoint('shard-a')).toEqual({});
    });

    leaseBalancingContract(async () => {
      const sc = scope();
      return { a: createTargetLeaseStore(target, sc), b: createTargetLeaseStore(target, sc) };
    }, SHORT_TTL_MS);

    it('one worker of many wins each shard', async () => {
      const sc = scope();
      const stores: ShardLeaseStore[] = [1, 2, 3, 4].map(() => createTargetLeaseStore(target, sc));
      const wins = await Promise.all(stores.map((s, i) => s.acquire('contested', `w${i}`, 10_000)));
      expect(wins.filter(Boolean)).toHaveLength(1);
    });
  });
}

describe('target lease store: engine over RESP fences a stalled former holder', () => {
  it("a write carrying the former lease's epoch cannot move the new holder's checkpoint", async () => {
    const server = await startEngineServer({ port: 0 });
    const target = createEngineRemoteTarget({ url: `valkey://127.0.0.1:${server.port}` });
    try {
      const a = createTargetLeaseStore(target, 'stream-x');
      const b = createTargetLeaseStore(target, 'stream-x');
      expect(await a.acquire('s', 'a', SHORT_TTL_MS)).toBe(true); // epoch 1
      expect(await a.setCheckpoint('s', 'a', { sequenceNumber: '10' })).toBe(true);
      await waitFor('b taking the expired lease', () => b.acquire('s', 'b', 10_000), 10_000, 20); // epoch 2
      expect(await b.setCheckpoint('s', 'b', { sequenceNumber: '20' })).toBe(true);
      // What a that had passed its holder check before stalling would send now (epoch 1, write 2).
      const { checkpoint } = shardKeys('stream-x', 's');
      const late = await target.client.call(
        'CACHE.REFRESH',
        checkpoint,
        '{"sequenceNumber":"11"}',
        '0',
        versionSortKey('1.2'),
      );
      expect(late).toBe('fenced');
      expect(await b.checkpoint('s')).toEqual({ sequenceNumber: '20' });
    } finally {
      await target.close();
      await server.close();
    }
  });
});

describe('target lease store keys', () => {
  it('put a shard lease and its checkpoint in one cluster slot, scoped by stream', () => {
    const k = shardKeys('arn:aws:dynamodb:eu-west-1:1:table/t/stream/x', 'shardId-000001');
    expect(k.lease).toBe('__cdc:lease:{arn:aws:dynamodb:eu-west-1:1:table/t/stream/x:shardId-000001}');
    expect(keySlot(k.checkpoint)).toBe(keySlot(k.lease));
    expect(keySlot(k.epoch)).toBe(keySlot(k.lease));
    expect(finishedKey('s1')).not.toBe(finishedKey('s2'));
  });

  it('refuses a target kind that cannot hold leases', () => {
    const odd = { kind: 'lambda' } as unknown as CacheTarget;
    expect(() => createTargetLeaseStore(odd, 's')).toThrow(/use --lease-store file/);
  });
});
