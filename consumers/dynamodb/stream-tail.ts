/**
 * The Streams port's read-only mode: a tail of one stream for tools (record, the fixture capture,
 * `verify --dynamodb-stream`) — no leases, no checkpoints, nothing written anywhere.
 *
 * Each round describes the stream (at most every `describeEveryMs`), then reads one page from every
 * shard not yet finished, in DescribeStream order; a shard whose page has no next iterator is done.
 * An expired iterator (or, with `onError`, any failure after the first round) is replaced by a fresh
 * one after the last sequence number handed over, so no record is handed over twice or skipped.
 */
import { describeAllShards, type IteratorStart, StreamsErrorKind, type StreamsPort } from './streams-port.ts';

/** Options of {@link tailDynamoDbStream}. */
export interface StreamTailOptions {
  streamArn: string;
  /**
   * `trim-horizon`: every shard from its oldest record. `latest`: shards open at the start from their
   * next record on (shards already closed are skipped); shards that appear later from their oldest.
   */
  from: 'trim-horizon' | 'latest';
  /** Each record (the SDK's stream record), once, in shard order. */
  onRecord(record: unknown, shardId: string): void;
  /** Asked before each round (after the pause): true ends the tail. */
  done(): boolean | Promise<boolean>;
  /** Pause between rounds, ms. @default 250 */
  pollMs?: number;
  /** Describe the stream (find new shards) at most this often, ms. @default 0 (every round) */
  describeEveryMs?: number;
  /** Records per GetRecords. @default 1000 */
  limit?: number;
  /**
   * With it, a failure after the first round is reported here and the round retried; without it, it
   * is thrown. A failure of the first round is always thrown (the stream cannot be read at all).
   */
  onError?(error: unknown): void;
}

function sequenceOf(record: unknown): string | undefined {
  return (record as { dynamodb?: { SequenceNumber?: string } }).dynamodb?.SequenceNumber;
}

/** Reads a stream read-only until `options.done()` holds. */
export async function tailDynamoDbStream(port: StreamsPort, options: StreamTailOptions): Promise<void> {
  const { streamArn } = options;
  const pollMs = options.pollMs ?? 250;
  /** Open shards → their iterator (undefined: get one). */
  const iterators = new Map<string, string | undefined>();
  const startOf = new Map<string, IteratorStart>();
  const lastSequence = new Map<string, string>();
  const finished = new Set<string>();
  let started = false;
  let lastDescribe = Number.NEGATIVE_INFINITY;
  const iteratorFor = (shard: string) => {
    const seq = lastSequence.get(shard);
    const start: IteratorStart =
      seq === undefined
        ? (startOf.get(shard) ?? { type: 'TRIM_HORIZON' })
        : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: seq };
    return port.getShardIterator(streamArn, shard, start);
  };
  while (!(await options.done())) {
    try {
      if (Date.now() - lastDescribe >= (options.describeEveryMs ?? 0)) {
        lastDescribe = Date.now();
        for (const shard of await describeAllShards(port, streamArn)) {
          const id = shard.shardId;
          if (iterators.has(id) || finished.has(id)) continue;
          const latest = !started && options.from === 'latest';
          if (latest && shard.endingSequenceNumber !== undefined) {
            finished.add(id); // closed before the tail began: history, not followed
            continue;
          }
          startOf.set(id, { type: latest ? 'LATEST' : 'TRIM_HORIZON' });
          iterators.set(id, undefined);
        }
        started = true;
      }
      for (const [shard, known] of iterators) {
        const iterator = known ?? (await iteratorFor(shard));
        const page =
          iterator === undefined ? undefined : await port.getRecords(iterator, options.limit ?? 1000);
        for (const record of page?.records ?? []) {
          const seq = sequenceOf(record);
          if (seq !== undefined) lastSequence.set(shard, seq);
          options.onRecord(record, shard);
        }
        if (page?.nextIterator === undefined) {
          iterators.delete(shard);
          finished.add(shard);
        } else iterators.set(shard, page.nextIterator);
      }
    } catch (error) {
      const expired = port.kindOf(error) === StreamsErrorKind.ExpiredIterator;
      if (!started || (!expired && options.onError === undefined)) throw error;
      if (!expired) options.onError?.(error);
      for (const shard of iterators.keys()) iterators.set(shard, undefined);
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
