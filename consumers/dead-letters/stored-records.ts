/**
 * A stored dead letter back to the source records it stands for, decoded by the same code the
 * consumers and Lambda handlers use:
 *
 * - a Kafka record the consumers wrote (`{ topic, partition, offset, key, value }`, bytes or their
 *   UTF-8 text) goes through the consumers' Kafka decoding (kafka-record.ts) with its original
 *   position, so its version (the offset, for sources without a log position) is what it was;
 * - a DynamoDB stream record (Lambda or SDK shape) or a Lambda Kafka record goes through
 *   `splitDocument`, as in the handlers;
 * - a Lambda on-failure range is read again from the stream: GetShardIterator AT_SEQUENCE_NUMBER
 *   at its start, GetRecords up to its end. Records the stream no longer retains (24 hours) cannot
 *   be had: that is an {@link AgedOutError}, saying so.
 */
import { type SourceRecord, splitDocument } from '../../core/decode/document.ts';
import { tableFromArn } from '../../core/decode/dynamodb.ts';
import { CdcCacheError, ErrorCode } from '../../core/errors.ts';
import { StreamsErrorKind, type StreamsPort } from '../dynamodb/streams-port.ts';
import { kafkaSourceRecord } from '../kafka/kafka-record.ts';
import type { StoredDeadLetter } from './dead-letter-store.ts';

/** The records of a dead letter, with the group (shard, topic-partition) they keep order in. */
export interface ResolvedRecords {
  group: string;
  records: SourceRecord[];
}

/** The stream no longer holds the records a dead letter points at. Not retriable. */
export class AgedOutError extends CdcCacheError {
  constructor(message: string, cause?: unknown) {
    super(ErrorCode.AgedOut, message, cause === undefined ? {} : { cause });
  }
}

/** What resolving needs besides the entry. */
export interface ResolveOptions {
  /** Table for DynamoDB records that name none (SDK-shaped records of the poller's file sink). */
  table?: string;
  /** Opens the DynamoDB Streams client, for on-failure ranges (loaded only when one is met). */
  streams?: () => Promise<StreamsPort>;
  /** GetRecords page size. @default 1000 */
  limit?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function bytes(v: unknown): Buffer | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.from(JSON.stringify(v), 'utf8');
}

/** True for the consumers' raw Kafka record (not a Lambda Kafka record, which has `timestampType`). */
function isConsumerKafkaRecord(r: unknown): r is Obj {
  return (
    isObj(r) &&
    typeof r.topic === 'string' &&
    typeof r.partition === 'number' &&
    typeof r.offset === 'string' &&
    'value' in r &&
    !('timestampType' in r)
  );
}

/** Resolves a dead letter to its source records; throws AgedOutError or a DecodeError-like error. */
export async function resolveRecords(
  entry: StoredDeadLetter,
  o: ResolveOptions = {},
): Promise<ResolvedRecords> {
  const p = entry.payload;
  if (p.kind === 'unreadable') {
    throw new CdcCacheError(ErrorCode.DeadLetterUnreadable, `${entry.id}: ${p.problem}`);
  }
  if (p.kind === 'record') {
    const r = p.record;
    if (isConsumerKafkaRecord(r)) {
      const topic = r.topic as string;
      const partition = r.partition as number;
      const message = {
        key: bytes(r.key),
        value: bytes(r.value),
        offset: r.offset as string,
        timestamp: '0',
      };
      return {
        group: p.group ?? `${topic}/${partition}`,
        records: [
          kafkaSourceRecord(
            topic,
            partition,
            message,
            o.table === undefined ? {} : { table: o.table },
            () => {},
          ),
        ],
      };
    }
    const records = splitDocument(r, o.table === undefined ? {} : { table: o.table }, entry.position);
    const arn = isObj(r) && typeof r.eventSourceARN === 'string' ? r.eventSourceARN : undefined;
    return { group: p.group ?? arn ?? entry.position, records };
  }
  if (o.streams === undefined)
    throw new AgedOutError(`${entry.id}: no DynamoDB Streams client to read ${entry.position}`);
  const streams = await o.streams();
  const records = await readRange(streams, p, entry.id, o.limit ?? 1000);
  return {
    group: `${p.streamArn}/${p.shardId}`,
    // GetRecords records name no table: the stream ARN does (`…:table/NAME/stream/…`).
    records: splitDocument(
      { Records: records },
      { source: 'dynamodb', table: o.table ?? tableFromArn(p.streamArn) ?? '' },
      p.shardId,
    ),
  };
}

const seqOf = (r: unknown): bigint | undefined => {
  const s = isObj(r) && isObj(r.dynamodb) ? r.dynamodb.SequenceNumber : undefined;
  return typeof s === 'string' && /^\d+$/.test(s) ? BigInt(s) : undefined;
};

/** Consecutive empty GetRecords pages after which an open shard is taken as read to its end. */
const EMPTY_PAGES = 5;

async function readRange(
  streams: StreamsPort,
  p: Extract<StoredDeadLetter['payload'], { kind: 'stream-range' }>,
  id: string,
  limit: number,
): Promise<unknown[]> {
  const end = BigInt(p.endSequenceNumber);
  const gone = (error: unknown) => {
    const kind = streams.kindOf(error);
    if (kind === StreamsErrorKind.Trimmed || kind === StreamsErrorKind.NotFound) {
      return new AgedOutError(
        `${id}: the stream no longer retains ${p.shardId}@${p.startSequenceNumber}..${p.endSequenceNumber}` +
          `${p.firstArrival ? ` (first record arrived ${p.firstArrival})` : ''}: DynamoDB Streams keeps records 24 hours; ` +
          `recover these keys from the table (e.g. replay a fresh read) and delete the message by hand`,
        error,
      );
    }
    return error;
  };
  let iterator: string | undefined;
  try {
    iterator = await streams.getShardIterator(p.streamArn, p.shardId, {
      type: 'AT_SEQUENCE_NUMBER',
      sequenceNumber: p.startSequenceNumber,
    });
  } catch (error) {
    throw gone(error);
  }
  const out: unknown[] = [];
  let empty = 0;
  while (iterator !== undefined) {
    let page: Awaited<ReturnType<StreamsPort['getRecords']>>;
    try {
      page = await streams.getRecords(iterator, limit);
    } catch (error) {
      throw gone(error);
    }
    let past = false;
    for (const r of page.records) {
      const s = seqOf(r);
      if (s !== undefined && s > end) {
        past = true;
        break;
      }
      out.push(r);
    }
    if (past) break;
    if (out.length > 0 && seqOf(out[out.length - 1]) === end) break;
    empty = page.records.length === 0 ? empty + 1 : 0;
    if (empty >= EMPTY_PAGES) break;
    iterator = page.nextIterator;
  }
  const first = seqOf(out[0]);
  if (first === undefined || first !== BigInt(p.startSequenceNumber)) {
    throw new AgedOutError(
      `${id}: the stream no longer retains the record at ${p.shardId}@${p.startSequenceNumber}` +
        `${first === undefined ? ' (nothing was read)' : ` (reading starts at ${first})`}: DynamoDB Streams keeps records 24 hours`,
    );
  }
  return out;
}
