/**
 * The stored shapes a dead letter comes back from, and the stream re-read of an on-failure record.
 * The documented on-failure document is parsed as AWS wrote it (test/fixtures/dead-letters). The
 * trimmed-stream cases use a StreamsPort stand-in, because DynamoDB Local cannot age records out:
 * the real re-read runs against DynamoDB Local in test/integration/dead-letters/sqs-redrive.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseDeadLetterBody } from '../../../../consumers/dead-letters/dead-letter-store.ts';
import { redrive } from '../../../../consumers/dead-letters/redrive.ts';
import { AgedOutError, resolveRecords } from '../../../../consumers/dead-letters/stored-records.ts';
import { StreamsErrorKind, type StreamsPort } from '../../../../consumers/dynamodb/streams-port.ts';
import { compileConfig } from '../../../../core/rules/compile.ts';
import { createEngineTarget } from '../../../../core/targets/engine/engine-target.ts';
import { fixture } from '../../../support/fixtures.ts';

const onFailure = () => fixture('dead-letters/lambda-dynamodb-on-failure.json') as Record<string, unknown>;

/** GetRecords records of `mytable` with these sequence numbers (the fixture's shard). */
function streamRecords(seqs: string[]) {
  return seqs.map((seq, i) => ({
    eventName: 'INSERT',
    dynamodb: {
      Keys: { id: { S: `k${i}` } },
      NewImage: { id: { S: `k${i}` }, n: { N: String(i) } },
      SequenceNumber: seq,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  }));
}

class Trimmed extends Error {
  override name = 'TrimmedDataAccessException';
}

function port(behaviour: { records?: unknown[]; iteratorError?: Error }): StreamsPort & { calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    describeStream: async () => ({ status: 'ENABLED', shards: [] }),
    latestStreamArn: async () => undefined,
    async getShardIterator(arn, shard, start) {
      calls.push({ arn, shard, start });
      if (behaviour.iteratorError) throw behaviour.iteratorError;
      return 'it-1';
    },
    async getRecords(iterator) {
      return iterator === 'it-1'
        ? { records: behaviour.records ?? [], nextIterator: 'it-2' }
        : { records: [], nextIterator: 'it-2' };
    },
    kindOf: (e) => (e instanceof Trimmed ? StreamsErrorKind.Trimmed : StreamsErrorKind.Other),
  };
}

describe('stored dead-letter shapes', () => {
  it('the documented Lambda on-failure record is a shard range with its reason', () => {
    const e = parseDeadLetterBody('m-1', onFailure());
    expect(e).toMatchObject({
      id: 'm-1',
      position: 'shardId-00000001573689847184-864758bb@800000000003126276362..800000000003126276362',
      code: 'RetryAttemptsExhausted',
      failedAt: '2019-11-14T00:13:49Z',
      payload: {
        kind: 'stream-range',
        streamArn: 'arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388',
        startSequenceNumber: '800000000003126276362',
        endSequenceNumber: '800000000003126276362',
        batchSize: 1,
      },
    });
    expect(e.reason).toBe(
      'Lambda on-failure record: RetryAttemptsExhausted after 1 invocations (Unhandled) of arn:aws:lambda:us-east-2:123456789012:function:myfunction; 1 records',
    );
  });

  it('an on-failure record without sequence numbers is unreadable, naming what is missing', () => {
    const body = onFailure();
    (body.DDBStreamBatchInfo as Record<string, unknown>).startSequenceNumber = undefined;
    expect(parseDeadLetterBody('m-2', body).payload).toEqual({
      kind: 'unreadable',
      problem: expect.stringMatching(/DDBStreamBatchInfo needs .*startSequenceNumber/),
    });
  });
});

describe('an on-failure range read again from the stream', () => {
  const config = compileConfig({ rules: [{ table: 'mytable', keys: ['item:{id}'], refresh: {} }] });

  it('reads AT_SEQUENCE_NUMBER the start, stops past the end, and takes the table from the stream ARN', async () => {
    const body = onFailure();
    Object.assign(body.DDBStreamBatchInfo as object, {
      startSequenceNumber: '100',
      endSequenceNumber: '200',
      batchSize: 2,
    });
    const streams = port({ records: streamRecords(['100', '200', '300']) });
    const entry = parseDeadLetterBody('m-3', body);
    const resolved = await resolveRecords(entry, { streams: async () => streams });
    expect(streams.calls).toEqual([
      {
        arn: 'arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388',
        shard: 'shardId-00000001573689847184-864758bb',
        start: { type: 'AT_SEQUENCE_NUMBER', sequenceNumber: '100' },
      },
    ]);
    expect(resolved.records.map((r) => r.decode()?.version)).toEqual(['100', '200']);
    const target = createEngineTarget();
    const report = await redrive([entry], { config, target, resolve: { streams: async () => streams } });
    expect(report.entries[0]).toMatchObject({ outcome: 'applied', records: 2 });
    expect(await target.get('item:k1')).toBe('{"id":"k1","n":1}');
  });

  it('a trimmed position is E_AGED_OUT, saying the stream keeps 24 hours; the entry is kept', async () => {
    const entry = parseDeadLetterBody('m-4', onFailure());
    const streams = port({ iteratorError: new Trimmed('Trimmed') });
    await expect(resolveRecords(entry, { streams: async () => streams })).rejects.toThrow(AgedOutError);
    const report = await redrive([entry], {
      config,
      target: createEngineTarget(),
      resolve: { streams: async () => streams },
    });
    expect(report.entries[0]).toMatchObject({ outcome: 'failed', code: 'E_AGED_OUT' });
    expect(report.entries[0]!.reason).toMatch(
      /no longer retains .*first record arrived 2019-11-14T00:13:19Z.*24 hours/,
    );
    expect(report.done.size).toBe(0);
  });

  it('a stream that now starts after the range start is aged out too, never a partial redrive', async () => {
    const body = onFailure();
    Object.assign(body.DDBStreamBatchInfo as object, {
      startSequenceNumber: '100',
      endSequenceNumber: '300',
    });
    const streams = port({ records: streamRecords(['250', '300']) });
    await expect(
      resolveRecords(parseDeadLetterBody('m-5', body), { streams: async () => streams }),
    ).rejects.toThrow(/no longer retains the record at .*@100 \(reading starts at 250\)/);
  });
});
