/**
 * The Streams port's read-only tail (consumers/dynamodb/stream-tail.ts), on an in-memory stream:
 * DynamoDB Local neither closes shards nor expires iterators on demand, and both decide where the
 * tail reads. Records have the GetRecords shape (a sequence number each).
 * - `trim-horizon` reads every shard from its oldest record, a closed shard to its end;
 * - `latest` skips shards closed before it began, reads open ones from then on, and a shard that
 *   appears later from its oldest record;
 * - an expired iterator resumes after the last record handed over: nothing twice, nothing skipped.
 */
import { describe, expect, it } from 'vitest';
import { tailDynamoDbStream } from '../../../../consumers/dynamodb/stream-tail.ts';
import {
  type IteratorStart,
  type StreamShard,
  StreamsErrorKind,
  type StreamsPort,
} from '../../../../consumers/dynamodb/streams-port.ts';

const ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000';
let seq = 1000;

function record(pk: string): { pk: string; dynamodb: { SequenceNumber: string } } {
  seq += 10;
  return { pk, dynamodb: { SequenceNumber: String(seq) } };
}

interface Shard {
  shard: StreamShard;
  records: ReturnType<typeof record>[];
}

/** Iterators are `shardId@index`; `expireOnce` makes the next GetRecords throw an expired iterator. */
function memoryStream(shards: Shard[]) {
  const state = { expireOnce: false, starts: [] as IteratorStart[] };
  const byId = () => new Map(shards.map((s) => [s.shard.shardId, s]));
  const port: StreamsPort = {
    async describeStream() {
      return { status: 'ENABLED', shards: shards.map((s) => s.shard) };
    },
    async getShardIterator(_arn, shardId, start) {
      state.starts.push(start);
      const s = byId().get(shardId)!;
      let at = 0;
      if (start.type === 'LATEST') at = s.records.length;
      else if (start.type === 'AFTER_SEQUENCE_NUMBER')
        at = s.records.findIndex((r) => r.dynamodb.SequenceNumber === start.sequenceNumber) + 1;
      return `${shardId}@${at}`;
    },
    async getRecords(iterator, limit) {
      if (state.expireOnce) {
        state.expireOnce = false;
        throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
      }
      const [shardId, at] = iterator.split('@') as [string, string];
      const s = byId().get(shardId)!;
      const records = s.records.slice(Number(at), Number(at) + limit);
      const next = Number(at) + records.length;
      return s.shard.endingSequenceNumber !== undefined && next >= s.records.length
        ? { records }
        : { records, nextIterator: `${shardId}@${next}` };
    },
    async latestStreamArn() {
      return ARN;
    },
    kindOf: (error) =>
      (error as Error).name === 'ExpiredIteratorException'
        ? StreamsErrorKind.ExpiredIterator
        : StreamsErrorKind.Other,
  };
  return { port, state };
}

const pks = (rs: unknown[]) => rs.map((r) => (r as { pk: string }).pk);

describe('DynamoDB stream tail (read-only)', () => {
  it('trim-horizon: every shard from its oldest record, a closed shard to its end', async () => {
    const closed = {
      shard: { shardId: 's1', endingSequenceNumber: '9' },
      records: [record('a'), record('b')],
    };
    const open = { shard: { shardId: 's2', parentShardId: 's1' }, records: [record('c')] };
    const { port } = memoryStream([closed, open]);
    const got: unknown[] = [];
    await tailDynamoDbStream(port, {
      streamArn: ARN,
      from: 'trim-horizon',
      pollMs: 1,
      onRecord: (r) => got.push(r),
      done: () => got.length >= 3,
    });
    expect(pks(got)).toEqual(['a', 'b', 'c']);
  });

  it('latest: skips shards closed before it began, follows open ones from then on and new ones from their start', async () => {
    const closed = { shard: { shardId: 's1', endingSequenceNumber: '9' }, records: [record('old1')] };
    const open: Shard = { shard: { shardId: 's2', parentShardId: 's1' }, records: [record('old2')] };
    const shards = [closed, open];
    const { port } = memoryStream(shards);
    const got: unknown[] = [];
    let rounds = 0;
    await tailDynamoDbStream(port, {
      streamArn: ARN,
      from: 'latest',
      pollMs: 1,
      onRecord: (r) => got.push(r),
      done: () => {
        rounds++;
        if (rounds === 3) open.records.push(record('new2'));
        if (rounds === 4)
          shards.push({ shard: { shardId: 's3', parentShardId: 's2' }, records: [record('new3')] });
        return got.length >= 2 || rounds > 50;
      },
    });
    expect(pks(got)).toEqual(['new2', 'new3']);
  });

  it('an expired iterator resumes after the last record handed over', async () => {
    const open: Shard = { shard: { shardId: 's1' }, records: [record('a'), record('b')] };
    const { port, state } = memoryStream([open]);
    const got: unknown[] = [];
    let rounds = 0;
    await tailDynamoDbStream(port, {
      streamArn: ARN,
      from: 'trim-horizon',
      pollMs: 1,
      onRecord: (r) => got.push(r),
      done: () => {
        rounds++;
        if (rounds === 2) {
          open.records.push(record('c'));
          state.expireOnce = true;
        }
        return got.length >= 3 || rounds > 50;
      },
    });
    expect(pks(got)).toEqual(['a', 'b', 'c']);
    expect(state.starts.at(-1)).toEqual({
      type: 'AFTER_SEQUENCE_NUMBER',
      sequenceNumber: open.records[1]!.dynamodb.SequenceNumber,
    });
  });
});
