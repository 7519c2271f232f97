import type { Message } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import {
  CommitScheduler,
  type OffsetToCommit,
} from '../../../../../consumers/kafka/platformatic/commit-scheduler.ts';
import {
  keyOf,
  MESSAGE_OVERHEAD_BYTES,
  PartitionBuffer,
} from '../../../../../consumers/kafka/platformatic/partition-buffer.ts';

function message(partition: number, offset: bigint, bytes = 0): Message {
  return {
    topic: 't',
    partition,
    offset,
    leaderEpoch: 3,
    timestamp: 0n,
    key: Buffer.alloc(0),
    value: Buffer.alloc(bytes),
    headers: new Map(),
    metadata: {},
    commit: () => {},
  } as unknown as Message;
}

const limits = { maxBuffered: 4, maxHeldBytes: 10_000, maxBatch: 2, maxBatchBytes: 10_000 };

describe('platformatic PartitionBuffer', () => {
  it('drops offsets already queued and partitions not assigned', () => {
    const buffer = new PartitionBuffer(limits);
    const assigned = (key: string) => key === keyOf('t', 0);
    expect(buffer.accept(message(0, 5n), assigned)).toBeDefined();
    expect(buffer.accept(message(0, 5n), assigned)).toBeUndefined();
    expect(buffer.accept(message(0, 4n), assigned)).toBeUndefined();
    expect(buffer.accept(message(1, 0n), assigned)).toBeUndefined();
    expect(buffer.states.get(keyOf('t', 0))?.queue.map((m) => m.offset)).toEqual([5n]);
  });

  it('queues a partition revoked and assigned again in a new state, never in the stale one', () => {
    // accept() remembers the last message's partition; a drop must make it look the partition up again.
    const buffer = new PartitionBuffer({ ...limits, maxBuffered: 100 });
    const s0 = buffer.accept(message(0, 7n), () => true)!;
    expect(buffer.accept(message(0, 8n), () => true)).toBe(s0);
    buffer.retain(new Set()); // a new assignment without partition 0
    expect(s0.stale).toBe(true);
    expect(buffer.accept(message(0, 9n), () => false)).toBeUndefined(); // a fetch from before the revocation
    const again = buffer.accept(message(0, 5n), () => true)!; // assigned again: re-read from the committed offset
    expect(again).not.toBe(s0);
    expect(again.queue.map((m) => m.offset)).toEqual([5n]);
    expect(s0.queue).toEqual([]);
    expect(buffer.accept(message(1, 0n), () => true)).not.toBe(again);
    expect(buffer.accept(message(0, 6n), () => true)).toBe(again);
    expect(again.queue.map((m) => m.offset)).toEqual([5n, 6n]);
  });

  it('pauses the stream at the message bound and resumes below half of it', () => {
    const buffer = new PartitionBuffer(limits);
    const calls: string[] = [];
    buffer.attach({ pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    for (let i = 0n; i < 4n; i++) buffer.accept(message(0, i), () => true);
    expect(calls).toEqual(['pause']);
    const s = buffer.states.get(keyOf('t', 0))!;
    const first = buffer.take(s);
    expect(first.messages.map((m) => m.offset)).toEqual([0n, 1n]);
    expect(first.bytes).toBe(2 * MESSAGE_OVERHEAD_BYTES);
    expect(calls).toEqual(['pause']);
    buffer.take(s);
    expect(calls).toEqual(['pause', 'resume']);
  });

  it('pauses at the byte bound counting batches in a handler until released', () => {
    const buffer = new PartitionBuffer({ ...limits, maxBuffered: 100, maxHeldBytes: 1000 });
    const calls: string[] = [];
    buffer.attach({ pause: () => calls.push('pause'), resume: () => calls.push('resume') });
    buffer.accept(message(0, 0n, 900), () => true);
    expect(calls).toEqual(['pause']);
    const taken = buffer.take(buffer.states.get(keyOf('t', 0))!);
    expect(calls).toEqual(['pause']);
    buffer.release(taken.bytes);
    expect(calls).toEqual(['pause', 'resume']);
  });
});

describe('platformatic CommitScheduler', () => {
  it('commits resolved offsets of live partitions when due by the injected clock', async () => {
    const buffer = new PartitionBuffer(limits);
    buffer.accept(message(0, 0n), () => true);
    buffer.accept(message(1, 0n), () => true);
    buffer.states.get(keyOf('t', 0))!.resolved = { offset: 1n, leaderEpoch: 3 };
    const stale = buffer.states.get(keyOf('t', 1))!;
    stale.resolved = { offset: 1n, leaderEpoch: 3 };
    stale.stale = true;
    const sent: OffsetToCommit[][] = [];
    let now = 10_000;
    const commits = new CommitScheduler({
      states: buffer.states,
      commit: async (r) => {
        sent.push(r.offsets);
      },
      intervalMs: 1000,
      now: () => now,
    });
    commits.commitIfDue();
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([[{ topic: 't', partition: 0, offset: 1n, leaderEpoch: 3 }]]);
    buffer.states.get(keyOf('t', 0))!.resolved = { offset: 2n, leaderEpoch: 3 };
    now += 999;
    commits.commitIfDue();
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(1);
    now += 1;
    commits.commitIfDue();
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(2);
  });

  it('puts back what a failed commit did not send, unless superseded', async () => {
    const buffer = new PartitionBuffer(limits);
    buffer.accept(message(0, 0n), () => true);
    const s = buffer.states.get(keyOf('t', 0))!;
    s.resolved = { offset: 1n, leaderEpoch: 3 };
    const commits = new CommitScheduler({
      states: buffer.states,
      commit: async () => {
        throw new Error('rebalance in progress');
      },
      intervalMs: 1000,
      now: () => 0,
    });
    await expect(commits.flush()).rejects.toThrow('rebalance in progress');
    expect(s.resolved).toEqual({ offset: 1n, leaderEpoch: 3 });
  });
});
