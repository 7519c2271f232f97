/**
 * DynamoDB Streams decoder: one stream record → one ChangeEvent.
 *
 * Accepts the Lambda event record (`eventSourceARN` names the table), the SDK `GetRecords` record
 * (table from options or the stream ARN), and the record format of DynamoDB → Kinesis Data Streams
 * (`tableName`, no SequenceNumber; the Kinesis sequence number is the version).
 *
 * Invariants: numbers keep their exact digits (`JSON.rawJSON` when a double would round; see
 * attribute-value.ts); binary becomes base64; sets become arrays; the version is the
 * SequenceNumber's digits, compared as an arbitrary-size integer.
 */
import { DecodeError, ErrorCode } from '../errors.ts';
import type { ChangeEvent, Op, Row, SourcePosition } from '../event/change-event.ts';
import { attributeMapToRow } from './attribute-value.ts';
import { MissingVersionError, type UnversionedEvent } from './missing-version.ts';
import { isObj, type Obj, objField, optStr, strField } from './shape.ts';

/** Context the envelope knows but a bare record may not. */
export interface DynamoDbContext {
  /** Table name when the record does not name it (GetRecords records). */
  table?: string;
  /** Stream ARN (GetRecords callers know it). */
  streamArn?: string;
  /** Shard id (the poller knows it). */
  shardId?: string;
  /** Kinesis sequence number, when the record arrived through Kinesis Data Streams. */
  kinesisSequenceNumber?: string;
}

const EVENT_NAMES: Record<string, Op> = { INSERT: 'create', MODIFY: 'update', REMOVE: 'delete' };

const TABLE_FROM_ARN = /:table\/([^/]+)/;

/** Extracts the table name from a DynamoDB table or stream ARN. */
export function tableFromArn(arn: string): string | undefined {
  return TABLE_FROM_ARN.exec(arn)?.[1];
}

/** Converts ApproximateCreationDateTime (Date, ISO text, epoch seconds int/float, or epoch ms) to epoch ms. */
export function creationTimeMs(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (value instanceof Date) return value.getTime();
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value);
  } else n = Number.NaN;
  if (!Number.isFinite(n)) {
    throw new DecodeError(
      ErrorCode.MissingField,
      `field "dynamodb.ApproximateCreationDateTime" is not a time: ${String(value)}`,
    );
  }
  // Epoch seconds stay below 1e11 until the year 5138; epoch ms passed 1e11 in 1973.
  return n >= 1e11 ? Math.round(n) : Math.round(n * 1000);
}

function image(dynamodb: Obj, field: string): Row | null {
  const v = dynamodb[field];
  if (v === undefined || v === null) return null;
  if (!isObj(v))
    throw new DecodeError(ErrorCode.MissingField, `field "dynamodb.${field}" must be an attribute map`);
  try {
    return attributeMapToRow(v);
  } catch (cause) {
    throw new DecodeError(
      ErrorCode.BadShape,
      `field "dynamodb.${field}" is not a valid attribute map: ${(cause as Error).message}`,
      { cause },
    );
  }
}

function isTtlDelete(record: Obj): boolean {
  const id = record.userIdentity;
  if (!isObj(id)) return false;
  return (
    String(id.type).toLowerCase() === 'service' &&
    String(id.principalId).toLowerCase() === 'dynamodb.amazonaws.com'
  );
}

/** Decodes one DynamoDB stream record (Lambda, GetRecords or Kinesis format) into a ChangeEvent. */
export function decodeDynamoDbRecord(record: Obj, context: DynamoDbContext = {}): ChangeEvent {
  const eventSource = record.eventSource;
  if (eventSource !== undefined && eventSource !== 'aws:dynamodb') {
    // An SQS message or another service's record shaped like a change is not a DynamoDB change.
    throw new DecodeError(
      ErrorCode.BadShape,
      `eventSource ${JSON.stringify(eventSource)} is not a DynamoDB stream record (expected "aws:dynamodb")`,
    );
  }
  const eventName = strField(record, 'eventName');
  const op = EVENT_NAMES[eventName];
  if (op === undefined) {
    throw new DecodeError(
      ErrorCode.UnknownOp,
      `unknown eventName "${eventName}" (expected INSERT, MODIFY or REMOVE)`,
    );
  }
  const dynamodb = objField(record, 'dynamodb');
  const arn = optStr(record, 'eventSourceARN') ?? context.streamArn;
  const table =
    optStr(record, 'tableName') ?? (arn === undefined ? undefined : tableFromArn(arn)) ?? context.table;
  if (table === undefined) {
    throw new DecodeError(
      ErrorCode.MissingField,
      'the record names no table (no eventSourceARN or tableName): pass --table NAME (or the stream ARN)',
    );
  }
  const sequence =
    optStr(dynamodb, 'SequenceNumber', 'dynamodb.SequenceNumber') ?? context.kinesisSequenceNumber;
  const ts = creationTimeMs(dynamodb.ApproximateCreationDateTime);
  const version = sequence ?? (ts > 0 ? String(ts) : undefined);
  if (version !== undefined && !/^\d+$/.test(version)) {
    throw new DecodeError(
      ErrorCode.MissingField,
      'field "dynamodb.SequenceNumber" must be a string of digits',
    );
  }
  const keys = image(dynamodb, 'Keys');
  const before = image(dynamodb, 'OldImage');
  const after = image(dynamodb, 'NewImage');
  if (version === undefined) {
    const unversioned: UnversionedEvent = {
      source: 'dynamodb',
      table,
      namespace: null,
      op,
      key: keys,
      before,
      after,
      ts,
    };
    throw new MissingVersionError(
      'field "dynamodb.SequenceNumber" is missing (and no ApproximateCreationDateTime): the record has no version',
      unversioned,
    );
  }
  const position: SourcePosition =
    context.kinesisSequenceNumber !== undefined
      ? { kind: 'kinesis', ...(arn ? { streamArn: arn } : {}), sequenceNumber: context.kinesisSequenceNumber }
      : {
          kind: 'dynamodb',
          ...(arn ? { streamArn: arn } : {}),
          ...(context.shardId ? { shardId: context.shardId } : {}),
          sequenceNumber: version,
        };
  const event: ChangeEvent = {
    source: 'dynamodb',
    table,
    namespace: null,
    op,
    key: keys,
    before,
    after,
    version,
    ts,
    position,
  };
  if (op === 'delete' && isTtlDelete(record)) event.ttlExpired = true;
  return event;
}
