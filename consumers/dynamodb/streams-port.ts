/**
 * Our seam over DynamoDB Streams: the four calls the poller makes, with the service's errors sorted
 * into the few kinds the poller treats differently. The AWS SDK adapter is aws-streams-client.ts;
 * tests may pass anything with these methods.
 */

/** A shard of a stream. */
export interface StreamShard {
  shardId: string;
  parentShardId?: string;
  /** Set once the shard is closed (no more records will be written to it). */
  endingSequenceNumber?: string;
}

/** One page of DescribeStream. */
export interface StreamDescription {
  status: string;
  shards: StreamShard[];
  /** Continue from here (pagination); undefined on the last page. */
  lastEvaluatedShardId?: string;
}

/** Where to start reading a shard. */
export type IteratorStart =
  | { type: 'TRIM_HORIZON' | 'LATEST' }
  | { type: 'AFTER_SEQUENCE_NUMBER' | 'AT_SEQUENCE_NUMBER'; sequenceNumber: string };

/** One GetRecords answer. Records are the SDK's stream records (decoded by core/decode). */
export interface RecordsPage {
  records: unknown[];
  /** Undefined when the shard is closed and fully read. */
  nextIterator?: string;
}

/** Why a streams call failed, as far as the poller cares. */
export const StreamsErrorKind = {
  ExpiredIterator: 'expired-iterator',
  Trimmed: 'trimmed',
  Throttled: 'throttled',
  NotFound: 'not-found',
  Other: 'other',
} as const;
/** One of {@link StreamsErrorKind}. */
export type StreamsErrorKindValue = (typeof StreamsErrorKind)[keyof typeof StreamsErrorKind];

/** A DynamoDB Streams client. */
export interface StreamsPort {
  describeStream(streamArn: string, exclusiveStartShardId?: string): Promise<StreamDescription>;
  getShardIterator(streamArn: string, shardId: string, start: IteratorStart): Promise<string | undefined>;
  getRecords(iterator: string, limit: number): Promise<RecordsPage>;
  /** The newest stream of a table (when no ARN is configured). */
  latestStreamArn(table: string): Promise<string | undefined>;
  /** Sorts an error thrown by the calls above. */
  kindOf(error: unknown): StreamsErrorKindValue;
}

/** Every shard of a stream, following DescribeStream's pagination. */
export async function describeAllShards(port: StreamsPort, streamArn: string): Promise<StreamShard[]> {
  const shards: StreamShard[] = [];
  let start: string | undefined;
  for (let page = 0; page < 10_000; page++) {
    const d = await port.describeStream(streamArn, start);
    shards.push(...d.shards);
    if (d.lastEvaluatedShardId === undefined) break;
    start = d.lastEvaluatedShardId;
  }
  return shards;
}
