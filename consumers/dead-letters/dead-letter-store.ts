/**
 * The seam over a dead-letter destination, for `cdc-cache dead-letters list|show|redrive`: the
 * Kafka dead-letter topic, an SQS queue (the Lambda handlers' poison queue or a Lambda on-failure
 * destination) and the file sink each implement {@link DeadLetterStore} in a file of their own.
 *
 * Invariants: `read` never removes anything (a list or a dry run leaves the destination as it was);
 * `settle` removes (SQS DeleteMessage), commits (Kafka) or rewrites away (file) exactly the entries
 * it is given, which the caller passes only once the target confirmed them, and hands every other
 * entry it read back to the destination untouched.
 */
import { CdcCacheError, ErrorCode } from '../../core/errors.ts';

/** Where a dead letter's records are. */
export type StoredPayload =
  /** The record itself, as the sink wrote it (a Kafka message, a DynamoDB stream record, …). */
  | { kind: 'record'; record: unknown; group: string | undefined }
  /**
   * A Lambda on-failure invocation record for a DynamoDB stream: not the records but their shard
   * and sequence-number range, to be read again from the stream while it still retains them.
   */
  | {
      kind: 'stream-range';
      streamArn: string;
      shardId: string;
      startSequenceNumber: string;
      endSequenceNumber: string;
      batchSize: number | undefined;
      /** `approximateArrivalOfFirstRecord`, ISO time. */
      firstArrival: string | undefined;
    }
  /** A stored message that is not a shape cdc-cache (or Lambda for it) writes. */
  | { kind: 'unreadable'; problem: string };

/** One dead letter as found in its destination. */
export interface StoredDeadLetter {
  /** Unique within the destination: `FILE:LINE`, the SQS MessageId, `TOPIC/PARTITION@OFFSET`. */
  readonly id: string;
  /** Where the record was in its source stream (`orders/0@12`, `Records[3]@4421…`, a shard range). */
  readonly position: string;
  /** The error code it was dead-lettered with (`E_BAD_JSON`, `E_TEMPLATE_FIELD`, `RetryAttemptsExhausted`…). */
  readonly code: string;
  readonly reason: string;
  /** When it was dead-lettered (ISO time), when the destination says. */
  readonly failedAt: string | undefined;
  readonly payload: StoredPayload;
  /** The message as stored, for `show` (JSON-ready). */
  readonly stored: unknown;
}

/** Options of {@link DeadLetterStore.read}. */
export interface ReadOptions {
  /** Stop after this many entries. @default 1000 */
  max?: number;
  /** Read to hand back to a redrive (SQS: hidden from other readers for the redrive's duration). */
  forRedrive?: boolean;
}

/** A dead-letter destination. */
export interface DeadLetterStore {
  /** `kafka`, `sqs` or `file`. */
  readonly kind: string;
  /** The destination, for messages (credentials never included). */
  readonly name: string;
  /** Reads entries in destination order. Removes nothing. */
  read(options?: ReadOptions): Promise<StoredDeadLetter[]>;
  /**
   * Removes / commits / rewrites away the entries in `done` (ids from the last `read`), and hands
   * the rest back (SQS: visible again at once). Returns how many were removed.
   */
  settle(done: ReadonlySet<string>): Promise<number>;
  close(): Promise<void>;
}

/** A stored message could not be read or a destination refused an operation. */
export class DeadLetterStoreError extends CdcCacheError {
  constructor(message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(ErrorCode.DeadLetterUnreadable, message, options);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Reads the JSON body every non-Kafka destination stores, in any of the shapes the project writes:
 *
 * - the Lambda handlers' dead letter (functions/runtime/dead-letter.ts, SQS and file):
 *   `{ position, code, reason, record, group, functionName, requestId }`;
 * - the consumers' file sink (consumers/runtime/dead-letter-sink.ts):
 *   `{ position, code, reason, record, at }`;
 * - a Lambda on-failure invocation record of a DynamoDB event source mapping:
 *   `{ requestContext, responseContext, version, timestamp, DDBStreamBatchInfo: { shardId,
 *   startSequenceNumber, endSequenceNumber, batchSize, streamArn, … } }`.
 */
export function parseDeadLetterBody(id: string, body: unknown, fallbackTime?: string): StoredDeadLetter {
  if (isObj(body) && isObj(body.DDBStreamBatchInfo)) {
    const b = body.DDBStreamBatchInfo;
    const streamArn = str(b.streamArn);
    const shardId = str(b.shardId);
    const start = str(b.startSequenceNumber);
    const end = str(b.endSequenceNumber);
    const rc = isObj(body.requestContext) ? body.requestContext : {};
    const resp = isObj(body.responseContext) ? body.responseContext : {};
    const condition = str(rc.condition) ?? 'OnFailure';
    const payload: StoredPayload =
      streamArn && shardId && start && /^\d+$/.test(start) && end && /^\d+$/.test(end)
        ? {
            kind: 'stream-range',
            streamArn,
            shardId,
            startSequenceNumber: start,
            endSequenceNumber: end,
            batchSize: typeof b.batchSize === 'number' ? b.batchSize : undefined,
            firstArrival: str(b.approximateArrivalOfFirstRecord),
          }
        : {
            kind: 'unreadable',
            problem:
              'DDBStreamBatchInfo needs "streamArn", "shardId" and digit strings "startSequenceNumber"/"endSequenceNumber"',
          };
    const fnError = str(resp.functionError);
    return {
      id,
      position: `${shardId ?? '?'}@${start ?? '?'}..${end ?? '?'}`,
      code: condition,
      reason: `Lambda on-failure record: ${condition} after ${String(rc.approximateInvokeCount ?? '?')} invocations${fnError ? ` (${fnError})` : ''} of ${str(rc.functionArn) ?? 'the function'}; ${String(b.batchSize ?? '?')} records`,
      failedAt: str(body.timestamp) ?? fallbackTime,
      payload,
      stored: body,
    };
  }
  if (isObj(body) && typeof body.position === 'string' && typeof body.code === 'string' && 'record' in body) {
    return {
      id,
      position: body.position,
      code: body.code,
      reason: str(body.reason) ?? '',
      failedAt: str(body.at) ?? fallbackTime,
      payload:
        body.record === undefined || body.record === null
          ? {
              kind: 'unreadable',
              problem: 'the dead letter carries no record (the line itself was unreadable)',
            }
          : { kind: 'record', record: body.record, group: str(body.group) },
      stored: body,
    };
  }
  return {
    id,
    position: '?',
    code: ErrorCode.DeadLetterUnreadable,
    reason: 'not a cdc-cache dead letter',
    failedAt: fallbackTime,
    payload: {
      kind: 'unreadable',
      problem:
        'expected a cdc-cache dead letter ({ position, code, reason, record }) or a Lambda on-failure record (DDBStreamBatchInfo)',
    },
    stored: body,
  };
}
