/**
 * The AWS SDK v3 adapter behind {@link StreamsPort}. The only file that imports
 * @aws-sdk/client-dynamodb-streams. With an `endpoint` (DynamoDB Local) and no credentials in the
 * environment, it signs with fixed local credentials, which DynamoDB Local accepts.
 */
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  type DynamoDBStreamsClientConfig,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListStreamsCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { StreamsErrorKind, type StreamsErrorKindValue, type StreamsPort } from './streams-port.ts';

/** Options of {@link createAwsStreamsClient}. */
export interface AwsStreamsOptions {
  region: string;
  endpoint?: string;
  /**
   * SDK attempts per call. The poller retries on its own (its backoff, its throttle handling), so it
   * keeps 1; a tool reading the stream once may let the SDK retry. @default 1
   */
  maxAttempts?: number;
}

const THROTTLED = new Set([
  'LimitExceededException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
]);

/** Creates the SDK-backed streams client. */
export function createAwsStreamsClient(o: AwsStreamsOptions): StreamsPort & { close(): void } {
  const config: DynamoDBStreamsClientConfig = { region: o.region, maxAttempts: o.maxAttempts ?? 1 };
  if (o.endpoint !== undefined) {
    config.endpoint = o.endpoint;
    if (process.env.AWS_ACCESS_KEY_ID === undefined)
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const client = new DynamoDBStreamsClient(config);
  return {
    async describeStream(streamArn, exclusiveStartShardId) {
      const r = await client.send(
        new DescribeStreamCommand(
          exclusiveStartShardId === undefined
            ? { StreamArn: streamArn }
            : { StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId },
        ),
      );
      const d = r.StreamDescription;
      const out: Awaited<ReturnType<StreamsPort['describeStream']>> = {
        status: d?.StreamStatus ?? 'UNKNOWN',
        shards: (d?.Shards ?? []).map((s) => {
          const shard: { shardId: string; parentShardId?: string; endingSequenceNumber?: string } = {
            shardId: s.ShardId ?? '',
          };
          if (s.ParentShardId) shard.parentShardId = s.ParentShardId;
          if (s.SequenceNumberRange?.EndingSequenceNumber)
            shard.endingSequenceNumber = s.SequenceNumberRange.EndingSequenceNumber;
          return shard;
        }),
      };
      if (d?.LastEvaluatedShardId) out.lastEvaluatedShardId = d.LastEvaluatedShardId;
      return out;
    },
    async getShardIterator(streamArn, shardId, start) {
      const r = await client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: start.type,
          ...('sequenceNumber' in start ? { SequenceNumber: start.sequenceNumber } : {}),
        }),
      );
      return r.ShardIterator ?? undefined;
    },
    async getRecords(iterator, limit) {
      const r = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
      const page: Awaited<ReturnType<StreamsPort['getRecords']>> = { records: r.Records ?? [] };
      if (r.NextShardIterator) page.nextIterator = r.NextShardIterator;
      return page;
    },
    async latestStreamArn(table) {
      const r = await client.send(new ListStreamsCommand({ TableName: table }));
      return r.Streams?.[0]?.StreamArn ?? undefined;
    },
    kindOf(error): StreamsErrorKindValue {
      const name = (error as { name?: string }).name ?? '';
      if (name === 'ExpiredIteratorException') return StreamsErrorKind.ExpiredIterator;
      if (name === 'TrimmedDataAccessException') return StreamsErrorKind.Trimmed;
      if (name === 'ResourceNotFoundException') return StreamsErrorKind.NotFound;
      if (THROTTLED.has(name) || (error as { $retryable?: { throttling?: boolean } }).$retryable?.throttling)
        return StreamsErrorKind.Throttled;
      return StreamsErrorKind.Other;
    },
    close: () => client.destroy(),
  };
}
