import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFileLeaseStore } from '../../../../consumers/dynamodb/file-lease-store.ts';
import { orderByLineage, readyShards } from '../../../../consumers/dynamodb/shard-lineage.ts';
import { describeAllShards, type StreamsPort } from '../../../../consumers/dynamodb/streams-port.ts';

describe('shard lineage', () => {
  const shards = [
    { shardId: 'child-a', parentShardId: 'root' },
    { shardId: 'grandchild', parentShardId: 'child-a' },
    { shardId: 'root' },
    { shardId: 'orphan', parentShardId: 'trimmed-away' },
  ];

  it('orders parents before children', () => {
    expect(orderByLineage(shards).map((s) => s.shardId)).toEqual(['root', 'orphan', 'child-a', 'grandchild']);
  });

  it('a child is ready only once its parent is finished; a parent no longer listed counts as finished', () => {
    expect(readyShards(shards, new Set()).map((s) => s.shardId)).toEqual(['root', 'orphan']);
    expect(readyShards(shards, new Set(['root'])).map((s) => s.shardId)).toEqual(['orphan', 'child-a']);
    expect(readyShards(shards, new Set(['root', 'child-a', 'orphan'])).map((s) => s.shardId)).toEqual([
      'grandchild',
    ]);
  });

  it('follows DescribeStream pagination', async () => {
    const pages: Record<string, { shards: { shardId: string }[]; next?: string }> = {
      '': { shards: [{ shardId: 's1' }, { shardId: 's2' }], next: 's2' },
      s2: { shards: [{ shardId: 's3' }] },
    };
    const port = {
      async describeStream(_arn: string, start?: string) {
        const p = pages[start ?? '']!;
        return p.next === undefined
          ? { status: 'ENABLED', shards: p.shards }
          : { status: 'ENABLED', shards: p.shards, lastEvaluatedShardId: p.next };
      },
    } as unknown as StreamsPort;
    expect((await describeAllShards(port, 'arn')).map((s) => s.shardId)).toEqual(['s1', 's2', 's3']);
  });
});

describe('file lease store', () => {
  it('gives a shard to one owner at a time, lets another take it after expiry, and fences checkpoints', async () => {
    let now = 1_000;
    const dir = mkdtempSync(join(tmpdir(), 'leases-'));
    const store = await createFileLeaseStore({ dir, now: () => now });
    expect(await store.acquire('shard-1', 'a', 1000)).toBe(true);
    expect(await store.acquire('shard-1', 'b', 1000)).toBe(false);
    expect(await store.setCheckpoint('shard-1', 'a', { sequenceNumber: '100' })).toBe(true);
    expect(await store.setCheckpoint('shard-1', 'b', { sequenceNumber: '999' })).toBe(false);
    now += 500;
    expect(await store.renew('shard-1', 'a', 1000)).toBe(true);
    now += 1500; // a died: its lease expired
    expect(await store.acquire('shard-1', 'b', 1000)).toBe(true);
    expect(await store.renew('shard-1', 'a', 1000)).toBe(false);
    expect(await store.setCheckpoint('shard-1', 'a', { sequenceNumber: '150' })).toBe(false);
    expect(await store.checkpoint('shard-1')).toEqual({ sequenceNumber: '100' });
    expect(await store.setCheckpoint('shard-1', 'b', { finished: true })).toBe(true);
    expect(await store.finished()).toEqual(new Set(['shard-1']));
  });

  it('serialises concurrent acquisitions across store instances (one winner)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'leases-'));
    const stores = await Promise.all([1, 2, 3, 4].map(() => createFileLeaseStore({ dir })));
    const won = await Promise.all(stores.map((s, i) => s.acquire('shard-x', `w${i}`, 10_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });
});
