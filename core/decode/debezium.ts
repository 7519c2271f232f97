/**
 * Debezium decoder (JSON converter, with or without schemas): one Kafka message value → zero or one
 * ChangeEvent.
 *
 * Handles the envelope (`op` c/u/d/r/t) from PostgreSQL, MySQL/MariaDB, SQL Server and MongoDB
 * (extended-JSON strings, `updateDescription`, the legacy `patch`/`filter` forms), and the flat output
 * of ExtractNewRecordState (`__deleted`, `__op`, `__table`, ...). Records that are not row changes
 * (tombstones, transaction BEGIN/END, logical-decoding messages `m`, heartbeats, schema changes, key
 * documents) decode to null. Anything else that does not fit throws a DecodeError.
 *
 * Invariants: PostgreSQL unchanged-TOAST placeholders are removed from the image and listed in
 * `unavailable`; decimals with a schema become exact strings; int64 digits survive (the caller parsed
 * with core/json); the version is the source position, the Kafka offset only as a fallback;
 * partial old images (PostgreSQL REPLICA IDENTITY DEFAULT, MySQL MINIMAL row images) lose their
 * stand-in values and are marked in `partial` (see partial-image.ts); a schemaless old image that
 * looks whole is marked `beforeUnverified`, since a column's default cannot be told from a value.
 */

import { DecodeError, ErrorCode } from '../errors.ts';
import type {
  ChangeEvent,
  Op,
  PartialCause,
  PartialImage,
  Row,
  SourcePosition,
} from '../event/change-event.ts';
import { applyRowSchema, envelopeFieldSchema, isRawDecimal } from './debezium-schema.ts';
import { versionFromSource } from './debezium-version.ts';
import { requireVersion } from './missing-version.ts';
import { mongoDocument, mongoKey } from './mongodb.ts';
import { detectPartialImage, partialCause } from './partial-image.ts';
import { isObj, type Obj, optStr, typeName } from './shape.ts';

/** The Kafka context of a Debezium value. All optional: change logs may carry only the value. */
export interface KafkaContext {
  topic?: string;
  partition?: number;
  offset?: string;
  /** The record key, parsed (with or without a schema envelope); undefined or null when absent. */
  key?: unknown;
  /** Table to use when neither the event nor the topic names one. */
  table?: string;
  /** PostgreSQL unchanged-TOAST placeholder. @default '__debezium_unavailable_value' */
  unavailablePlaceholder?: string;
}

/** Debezium's default `unavailable.value.placeholder`. */
export const DEFAULT_UNAVAILABLE_PLACEHOLDER = '__debezium_unavailable_value';

const OPS: Record<string, Op> = { c: 'create', u: 'update', d: 'delete', r: 'read', t: 'truncate' };

/** The placeholder as bytea columns carry it (base64 of its UTF-8 bytes). */
const placeholderBase64 = new Map<string, string>();

function placeholderAsBase64(placeholder: string): string {
  let b64 = placeholderBase64.get(placeholder);
  if (b64 === undefined) {
    b64 = Buffer.from(placeholder, 'utf8').toString('base64');
    placeholderBase64.set(placeholder, b64);
  }
  return b64;
}

function isPlaceholder(v: unknown, placeholder: string): boolean {
  if (v === placeholder) return true;
  if (typeof v === 'string') return v.length > placeholder.length && v === placeholderAsBase64(placeholder);
  if (Array.isArray(v)) return v.length > 0 && v.every((x) => x === placeholder);
  return false;
}

/** `rowFlags` bit: a top-level row value is a number that may have been rounded by JSON.parse. */
export const ROW_INEXACT = 1;
/** `rowFlags` bit: a row holds nested objects/arrays (not scanned for rounding here). */
export const ROW_NESTED = 2;
let rowFlags = 0;

/**
 * What the last decode saw in its row images (ROW_INEXACT | ROW_NESTED). Read right after a
 * synchronous decode by the text fast path (debezium-text.ts), so it never needs a second walk.
 */
export function lastRowFlags(): number {
  return rowFlags;
}

/**
 * One pass over a row: removes unchanged-TOAST placeholders (listing them in `unavailable`) and,
 * for schemaless events, lists VariableScaleDecimal structs kept raw.
 */
function scanRow(
  row: Row | null,
  placeholder: string,
  unavailable: string[],
  raw: string[] | undefined,
): void {
  if (row === null) return;
  for (const k in row) {
    const v = row[k];
    if (v === null) continue;
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) rowFlags |= ROW_INEXACT;
      continue;
    }
    if (typeof v === 'object') rowFlags |= ROW_NESTED;
    if (isPlaceholder(v, placeholder)) {
      delete row[k];
      if (!unavailable.includes(k)) unavailable.push(k);
    } else if (raw !== undefined && isRawDecimal(v)) {
      raw.push(k);
    }
  }
}

/** Per-decode scratch (decoding is synchronous and not reentrant). */
const SCRATCH_UNAVAILABLE: string[] = [];
const SCRATCH_RAW: string[] = [];

const topicCache = new Map<string, { table?: string; namespace?: string }>();
const NO_TOPIC = {};

/** Table and namespace from a Debezium topic name (`prefix.schema.table`), cached per topic. */
function topicParts(topic: string | undefined): { table?: string; namespace?: string } {
  if (topic === undefined) return NO_TOPIC;
  let parsed = topicCache.get(topic);
  if (parsed === undefined) {
    const parts = topic.split('.');
    const table = parts[parts.length - 1]!;
    parsed = parts.length >= 3 ? { table, namespace: parts[parts.length - 2]! } : { table };
    if (topicCache.size < 10_000) topicCache.set(topic, parsed);
  }
  return parsed;
}

function rowOrNull(v: unknown, field: string): Row | null {
  if (v === undefined || v === null) return null;
  if (!isObj(v))
    throw new DecodeError(
      ErrorCode.MissingField,
      `field "${field}" must be an object or null, got a ${typeName(v)}`,
    );
  return v as Row;
}

function keyRow(key: unknown): Row | null {
  if (key === undefined || key === null) return null;
  if (isObj(key) && 'schema' in key && 'payload' in key)
    return isObj(key.payload) ? (key.payload as Row) : null;
  if (isObj(key)) return key as Row;
  return null; // Scalar keys (a string key from another producer) carry no field names.
}

function kafkaPosition(ctx: KafkaContext): SourcePosition | undefined {
  if (ctx.topic === undefined || ctx.offset === undefined) return undefined;
  return { kind: 'kafka', topic: ctx.topic, partition: ctx.partition ?? 0, offset: ctx.offset };
}

function isNonRowChange(doc: Obj, schema: unknown): boolean {
  if ((doc.status === 'BEGIN' || doc.status === 'END') && 'id' in doc) return true; // transaction metadata
  if ('ddl' in doc || 'tableChanges' in doc) return true; // schema change topic
  if (doc.op === 'm' || ('message' in doc && isObj(doc.message) && 'prefix' in doc.message)) return true;
  const name = isObj(schema) ? schema.name : undefined;
  if (typeof name === 'string') {
    if (name.endsWith('.Key')) return true;
    if (name.endsWith('Heartbeat') || name.endsWith('TransactionMetadataValue')) return true;
  }
  if (doc.ts_ms === undefined || 'op' in doc) return false;
  for (const k in doc) if (k !== 'ts_ms') return false;
  return true; // heartbeat without schema: { ts_ms } alone
}

function finish(event: ChangeEvent, ctx: KafkaContext): ChangeEvent {
  const position = kafkaPosition(ctx);
  if (position !== undefined) event.position = position;
  return event;
}

const NO_VERSION =
  'no version: the event has no source position (source.lsn, file/pos, commit_lsn, ord) and no Kafka offset; ' +
  'keep the Debezium source block (for unwrapped records add.fields=lsn or source.ts_ms), or give the record as a change-log line {topic, partition, offset, value}';

/** The version (the source position, else the Kafka offset); undefined when there is none. */
function versionOf(source: Obj, ctx: KafkaContext): string | undefined {
  return versionFromSource(source) ?? ctx.offset;
}

function decodeEnvelope(payload: Obj, schema: unknown, ctx: KafkaContext): ChangeEvent {
  const opCode = payload.op;
  const op = typeof opCode === 'string' ? OPS[opCode] : undefined;
  if (op === undefined) {
    throw new DecodeError(
      ErrorCode.UnknownOp,
      `unknown op ${JSON.stringify(opCode)} (expected c, u, d, r or t)`,
    );
  }
  const source = isObj(payload.source) ? payload.source : {};
  const topic = topicParts(ctx.topic);
  const table =
    optStr(source, 'table', 'source.table') ??
    optStr(source, 'collection', 'source.collection') ??
    topic.table ??
    ctx.table;
  if (table === undefined) {
    throw new DecodeError(
      ErrorCode.MissingField,
      'the event names no table (no source.table, no topic): pass --table NAME',
    );
  }
  const namespace =
    optStr(source, 'schema', 'source.schema') ?? optStr(source, 'db', 'source.db') ?? topic.namespace ?? null;
  const isMongo =
    source.connector === 'mongodb' ||
    (source.connector === undefined &&
      (typeof payload.after === 'string' || typeof payload.before === 'string')) ||
    'patch' in payload ||
    'updateDescription' in payload;
  let before: Row | null;
  let after: Row | null;
  let key = keyRow(ctx.key);
  let partial: PartialImage | undefined;
  let unverified: PartialCause | undefined;
  // Scratch lists, copied onto the event only when not empty: most events allocate neither.
  const unavailable = SCRATCH_UNAVAILABLE;
  const raw = SCRATCH_RAW;
  unavailable.length = 0;
  raw.length = 0;
  if (isMongo) {
    before = mongoDocument(payload.before, 'before');
    after = mongoDocument(payload.after, 'after');
    if (key !== null) key = mongoKey(key);
    else if (payload.filter !== undefined) key = mongoDocument(payload.filter, 'filter');
    else if (after?._id !== undefined) key = { _id: after._id };
    else if (before?._id !== undefined) key = { _id: before._id };
  } else {
    before = rowOrNull(payload.before, 'before');
    after = rowOrNull(payload.after, 'after');
    const beforeSchema = isObj(schema) ? envelopeFieldSchema(schema, 'before') : undefined;
    const afterSchema = isObj(schema) ? envelopeFieldSchema(schema, 'after') : undefined;
    if (isObj(schema)) {
      before = applyRowSchema(before, beforeSchema);
      after = applyRowSchema(after, afterSchema);
    }
    const placeholder = ctx.unavailablePlaceholder ?? DEFAULT_UNAVAILABLE_PLACEHOLDER;
    scanRow(after, placeholder, unavailable, schema === undefined ? raw : undefined);
    scanRow(before, placeholder, unavailable, schema === undefined && after === null ? raw : undefined);
    const cause = op === 'update' || op === 'delete' ? partialCause(source.connector) : undefined;
    const found =
      cause === undefined
        ? undefined
        : detectPartialImage(cause, op, before, after, key, beforeSchema, afterSchema);
    if (found !== undefined) ({ partial, before, after } = found);
    // Without a schema a default-filled column reads as captured: rules decide whether to trust it.
    else if (cause !== undefined && before !== null && !isObj(schema)) unverified = cause;
  }
  // MySQL snapshots send source.ts_ms = 0: fall back to the envelope's processing time.
  const ts =
    typeof source.ts_ms === 'number' && source.ts_ms > 0
      ? source.ts_ms
      : typeof payload.ts_ms === 'number'
        ? payload.ts_ms
        : 0;
  const version = versionOf(source, ctx);
  const event: ChangeEvent = {
    source: 'debezium',
    table,
    namespace,
    op,
    key: op === 'truncate' ? null : key,
    before,
    after,
    version: version ?? '',
    ts,
  };
  if (unavailable.length > 0) event.unavailable = unavailable.slice();
  if (raw.length > 0) event.raw = raw.slice();
  if (partial !== undefined) event.partial = partial;
  if (unverified !== undefined) event.beforeUnverified = unverified;
  requireVersion(event, version, NO_VERSION);
  return finish(event, ctx);
}

const META_PREFIX = '__';

function decodeUnwrapped(row: Obj, ctx: KafkaContext): ChangeEvent {
  const meta: Obj = {};
  const image: Row = {};
  for (const k of Object.keys(row)) {
    if (k.startsWith(META_PREFIX)) meta[k.slice(2)] = row[k];
    else image[k] = row[k] as Row[string];
  }
  const deleted = meta.deleted === true || meta.deleted === 'true';
  const opCode = meta.op;
  let op: Op;
  if (deleted) op = 'delete';
  else if (opCode === undefined) op = 'update';
  else {
    const known = typeof opCode === 'string' ? OPS[opCode] : undefined;
    if (known === undefined)
      throw new DecodeError(ErrorCode.UnknownOp, `unknown __op ${JSON.stringify(opCode)}`);
    op = known;
  }
  const topic = topicParts(ctx.topic);
  const table =
    optStr(meta, 'table', '__table') ??
    optStr(meta, 'collection', '__collection') ??
    topic.table ??
    ctx.table;
  if (table === undefined)
    throw new DecodeError(
      ErrorCode.MissingField,
      'the record names no table (no __table, no topic): pass --table NAME',
    );
  const namespace =
    optStr(meta, 'schema', '__schema') ?? optStr(meta, 'db', '__db') ?? topic.namespace ?? null;
  const source: Obj = {};
  for (const k of Object.keys(meta)) source[k.startsWith('source_') ? k.slice(7) : k] = meta[k];
  const ts = typeof source.ts_ms === 'number' ? source.ts_ms : 0;
  const unavailable = SCRATCH_UNAVAILABLE;
  unavailable.length = 0;
  scanRow(image, ctx.unavailablePlaceholder ?? DEFAULT_UNAVAILABLE_PLACEHOLDER, unavailable, undefined);
  const version = versionOf(source, ctx);
  const event: ChangeEvent = {
    source: 'debezium',
    table,
    namespace,
    op,
    key: keyRow(ctx.key),
    before: deleted ? image : null,
    after: deleted ? null : image,
    version: version ?? '',
    ts,
  };
  if (unavailable.length > 0) event.unavailable = unavailable.slice();
  requireVersion(event, version, NO_VERSION);
  return finish(event, ctx);
}

function looksUnwrapped(doc: Obj, ctx: KafkaContext): boolean {
  for (const k of Object.keys(doc)) if (k.startsWith(META_PREFIX)) return true;
  // A flat row on a known topic (or with the table given): unwrap without added fields.
  return ctx.topic !== undefined || ctx.table !== undefined;
}

/**
 * Decodes one Debezium message value (already parsed with core/json, or null for a tombstone).
 * Returns null for records that are not row changes.
 */
export function decodeDebeziumValue(value: unknown, ctx: KafkaContext = {}): ChangeEvent | null {
  rowFlags = 0;
  if (value === null || value === undefined) return null; // tombstone
  if (!isObj(value))
    throw new DecodeError(ErrorCode.BadShape, `a Debezium value must be an object, got a ${typeName(value)}`);
  let payload: unknown = value;
  let schema: unknown;
  if ('payload' in value && 'schema' in value) {
    payload = value.payload;
    schema = value.schema;
    if (payload === null) return null;
    if (!isObj(payload))
      throw new DecodeError(
        ErrorCode.BadShape,
        `field "payload" must be an object, got a ${typeName(payload)}`,
      );
  }
  const doc = payload as Obj;
  if (isNonRowChange(doc, schema)) return null;
  if ('op' in doc) return decodeEnvelope(doc, schema, ctx);
  if ('before' in doc || 'after' in doc || 'source' in doc) {
    throw new DecodeError(ErrorCode.MissingField, 'field "op" is missing from a Debezium change event');
  }
  if (looksUnwrapped(doc, ctx)) return decodeUnwrapped(doc, ctx);
  throw new DecodeError(
    ErrorCode.BadShape,
    'not a Debezium change event: no "op", no "before"/"after", no "__op"/"__deleted" fields, no topic (a Kafka key document belongs in the "key" of a change-log line)',
  );
}
