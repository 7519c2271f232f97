/**
 * Where the DynamoDB poller starts a shard that has no checkpoint, across shard lineage, and what a
 * reader does when its lease is gone at the shard's end. DynamoDB Local never splits or rolls a
 * shard over (real streams roll every ~4 h), so the stream here is an in-memory StreamsPort; the
 * records have the shape of GetRecords records (test/fixtures/dynamodb/getrecords-response-cli.json,
 * the AWS CLI documentation example), the target and the lease store are the real in-process engine.
 *
 * - `--start LATEST` applies to where this consumer first joins the lineage. A child of a shard we
 *   read to its end starts at TRIM_HORIZON: its records were written after the parent closed, while
 *   we were reading — starting it at LATEST would drop every record written to it before the poller
 *   got its iterator (at each rollover, a window of lost invalidations).
 * - On a first start at LATEST, shards that are already closed hold only the past: they are marked
 *   finished without reading, and so are their closed descendants, so LATEST still means "from now".
 */
import { describe, expect, it } from 'vitest';
import { createDynamoDbPoller } from '../../../../consumers/dynamodb/dynamodb-poller.ts';
import { readShard } from '../../../../consumers/dynamodb/shard-reader.ts';
import {
  type IteratorStart,
  type StreamShard,
  StreamsErrorKind,
  type StreamsPort,
} from '../../../../consumers/dynamodb/streams-port.ts';
import { createTargetLeaseStore } from '../../../../consumers/dynamodb/target-lease-store.ts';
import { createConsumerMetrics } from '../../../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../../../consumers/runtime/logger.ts';
import { TargetError } from '../../../../core/errors.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { createEngineTarget, type EngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import type { ShardLeaseStore } from '../../../../core/targets/shard-lease-store.ts';
import { waitFor } from '../../../support/consumers.ts';
import { HARNESS_ARN, insertRecord } from '../../../support/shard-balance-harness.ts';

const ARN = HARNESS_ARN;
const insert = insertRecord;

interface FakeShard {
  shard: StreamShard;
  records: unknown[];
}

/** An in-memory stream: iterators are `shardId@index`; a closed shard ends after its last record. */
function fakeStream(shards: FakeShard[]): StreamsPort {
  const byId = new Map(shards.map((s) => [s.shard.shardId, s]));
  return {
    async describeStream() {
      return { status: 'ENABLED', shards: shards.map((s) => s.shard) };
    },
    async getShardIterator(_arn, shardId, start: IteratorStart) {
      const s = byId.get(shardId)!;
      let at = 0;
      if (start.type === 'LATEST') at = s.records.length;
      else if (start.type === 'AFTER_SEQUENCE_NUMBER' || start.type === 'AT_SEQUENCE_NUMBER') {
        const i = s.records.findIndex(
          (r) =>
            (r as { dynamodb: { SequenceNumber: string } }).dynamodb.SequenceNumber === start.sequenceNumber,
        );
        at = start.type === 'AFTER_SEQUENCE_NUMBER' ? i + 1 : i;
      }
      return `${shardId}@${at}`;
    },
    async getRecords(iterator, limit) {
      const [shardId, at] = iterator.split('@') as [string, string];
      const s = byId.get(shardId)!;
      const from = Number(at);
      const records = s.records.slice(from, from + limit);
      const next = from + records.length;
      const closed = s.shard.endingSequenceNumber !== undefined;
      return closed && next >= s.records.length
        ? { records }
        : { records, nextIterator: `${shardId}@${next}` };
    },
    async latestStreamArn() {
      return ARN;
    },
    kindOf() {
      return StreamsErrorKind.Other;
    },
  };
}

const config = compileConfig({
  defaults: { ttl: 0 },
  rules: [{ table: 't', source: 'dynamodb', keys: ['item:{pk}'], refresh: {} }],
});

function startPoller(streams: StreamsPort, leases: ShardLeaseStore, target: EngineTarget) {
  const p = createDynamoDbPoller({
    streams,
    streamArn: ARN,
    table: 't',
    startPosition: 'LATEST',
    leases,
    workerId: 'w1',
    leaseTtlMs: 5000,
    rescanMs: 20,
    config,
    target,
    deadLetter: async (d) => {
      throw new Error(`unexpected dead letter: ${d.reason}`);
    },
    metrics: createConsumerMetrics(),
    logger: silentLogger,
    polling: { minIdleMs: 10, maxIdleMs: 20 },
  });
  return p;
}

describe('dynamodb poller: start position across shard lineage (--start LATEST)', () => {
  it('a child of a shard this consumer finished starts at TRIM_HORIZON: nothing written to it is skipped', async () => {
    const target = createEngineTarget();
    const leases = createTargetLeaseStore(target, ARN);
    // The running consumer read the parent to its end before it rolled over.
    const parent = insert('p0');
    expect(await leases.acquire('parent', 'w0', 5000)).toBe(true);
    const parentSeq = (parent as { dynamodb: { SequenceNumber: string } }).dynamodb.SequenceNumber;
    expect(await leases.setCheckpoint('parent', 'w0', { sequenceNumber: parentSeq, finished: true })).toBe(
      true,
    );
    await leases.release('parent', 'w0');
    const streams = fakeStream([
      { shard: { shardId: 'parent', endingSequenceNumber: parentSeq }, records: [parent] },
      // Written to the child after the rollover, before a poller took the child.
      { shard: { shardId: 'child', parentShardId: 'parent' }, records: [insert('c1'), insert('c2')] },
    ]);
    const p = startPoller(streams, leases, target);
    await p.start();
    try {
      await waitFor(
        'the child records applied',
        async () => (await target.get('item:c2')) !== null,
        3000,
        10,
      );
      expect(await target.get('item:c1')).not.toBeNull();
    } finally {
      await p.stop();
    }
  });

  it('a first start skips shards that are already closed (and their closed children) and reads the open one from now', async () => {
    const target = createEngineTarget();
    const leases = createTargetLeaseStore(target, ARN);
    const s1 = insert('old1');
    const s2 = [insert('old2')];
    const streams = fakeStream([
      // s0's parent was trimmed away; s0 and s1 closed before this consumer ever ran.
      {
        shard: { shardId: 's0', parentShardId: 'trimmed', endingSequenceNumber: '1' },
        records: [insert('old0')],
      },
      { shard: { shardId: 's1', parentShardId: 's0', endingSequenceNumber: '2' }, records: [s1] },
      { shard: { shardId: 's2', parentShardId: 's1' }, records: s2 },
    ]);
    const p = startPoller(streams, leases, target);
    await p.start();
    try {
      await waitFor('s2 leased', () => p.state.leased === 1 && p.state.streamArn !== null, 5000, 10);
      await waitFor('s0 and s1 finished', async () => (await leases.finished()).size === 2, 5000, 10);
      // Give s2's reader a poll on an empty tail, then write "now".
      await new Promise((r) => setTimeout(r, 100));
      s2.push(insert('new'));
      await waitFor('the new record applied', async () => (await target.get('item:new')) !== null, 5000, 10);
      expect(await target.get('item:old0')).toBeNull();
      expect(await target.get('item:old1')).toBeNull();
      expect(await target.get('item:old2')).toBeNull();
    } finally {
      await p.stop();
    }
  });
});

describe('shard reader: lease gone at the end of a closed shard', () => {
  it('does not report the shard finished when the finished mark was refused', async () => {
    const target = createEngineTarget();
    const leases = createTargetLeaseStore(target, ARN);
    expect(await leases.acquire('closed', 'b', 5000)).toBe(true); // another worker holds it now
    const streams = fakeStream([{ shard: { shardId: 'closed', endingSequenceNumber: '1' }, records: [] }]);
    const end = await readShard({
      streams,
      streamArn: ARN,
      shardId: 'closed',
      table: 't',
      startPosition: 'TRIM_HORIZON',
      leases,
      owner: 'a',
      leaseTtlMs: 5000,
      limit: 100,
      config,
      target,
      deadLetter: async () => {},
      metrics: createConsumerMetrics(),
      logger: silentLogger,
      stopping: () => false,
      onDone() {},
    });
    expect(end).toBe('lease-lost');
    expect(await leases.checkpoint('closed')).toEqual({});
  });
});

describe('shard reader: lease store unreachable (target outage)', () => {
  /** The real lease store, with renewals failing (retriable, as a connection error is) on demand. */
  function flakyRenew(inner: ShardLeaseStore) {
    const state = { failNext: 0, failed: 0, always: false };
    const store: ShardLeaseStore = {
      ...inner,
      async renew(shardId, owner, ttlMs) {
        if (state.always || state.failNext > 0) {
          state.failNext = Math.max(0, state.failNext - 1);
          state.failed++;
          throw new TargetError('connect ECONNREFUSED 127.0.0.1:16379');
        }
        return inner.renew(shardId, owner, ttlMs);
      },
    };
    return { store, state };
  }

  function reader(
    streams: StreamsPort,
    leases: ShardLeaseStore,
    target: EngineTarget,
    ttl: number,
    stop: () => boolean,
  ) {
    return readShard({
      streams,
      streamArn: ARN,
      shardId: 'open',
      table: 't',
      startPosition: 'TRIM_HORIZON',
      leases,
      owner: 'a',
      leaseTtlMs: ttl,
      limit: 100,
      config,
      target,
      deadLetter: async () => {},
      metrics: createConsumerMetrics(),
      logger: silentLogger,
      polling: { minIdleMs: 10, maxIdleMs: 20 },
      stopping: stop,
      onDone() {},
    });
  }

  it('keeps its place while renewals fail for less than a TTL, then goes on reading', async () => {
    const target = createEngineTarget();
    const inner = createTargetLeaseStore(target, ARN);
    const { store, state } = flakyRenew(inner);
    expect(await inner.acquire('open', 'a', 60_000)).toBe(true);
    const records = [insert('r1')];
    const streams = fakeStream([{ shard: { shardId: 'open' }, records }]);
    let stop = false;
    state.failNext = 3;
    const end = reader(streams, store, target, 60, () => stop);
    await waitFor('three failed renewals', () => state.failed >= 3, 5000, 5);
    records.push(insert('r2'));
    await waitFor(
      'r2 applied after the outage',
      async () => (await target.get('item:r2')) !== null,
      5000,
      10,
    );
    stop = true;
    expect(await end).toBe('stopped');
    expect(await target.get('item:r1')).not.toBeNull();
    const last = (records[1] as { dynamodb: { SequenceNumber: string } }).dynamodb.SequenceNumber;
    expect(await inner.checkpoint('open')).toEqual({ sequenceNumber: last });
  });

  it('stops with lease-lost once a whole TTL passed without a renewal; the checkpoint stays where it was', async () => {
    const target = createEngineTarget();
    const inner = createTargetLeaseStore(target, ARN);
    const { store, state } = flakyRenew(inner);
    expect(await inner.acquire('open', 'a', 60_000)).toBe(true);
    const records = [insert('s1')];
    const streams = fakeStream([{ shard: { shardId: 'open' }, records }]);
    const end = reader(streams, store, target, 150, () => false);
    await waitFor('s1 applied', async () => (await target.get('item:s1')) !== null, 5000, 10);
    const before = await inner.checkpoint('open');
    state.always = true;
    expect(await end).toBe('lease-lost');
    expect(state.failed).toBeGreaterThan(0);
    expect(await inner.checkpoint('open')).toEqual(before);
  });
});
