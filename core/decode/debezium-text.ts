/**
 * The hot path for Debezium values arriving as text (Kafka messages): plain `JSON.parse`, decode,
 * then verify that no number the event uses could have been rounded; only then re-parse exactly.
 *
 * Why not always parse exactly: modern Debezium events carry `ts_us` / `ts_ns` (16–19 digits) in
 * every message, so a text scan for long digit runs would send every event down the slow reviver
 * path. What matters is exactness of the values we use: row images, the key and the version. The
 * check: any number in `before` / `after` that is not a safe integer (an integer beyond
 * 2^53, or any non-integer, since a double cannot tell whether its source text had more digits),
 * or a version field that is not a safe integer → decode again from an exact parse.
 */

import { DecodeError, ErrorCode } from '../errors.ts';
import type { ChangeEvent, JsonValue, Row } from '../event/change-event.ts';
import { parseExactJson } from '../json/exact-json.ts';
import { decodeDebeziumValue, type KafkaContext, lastRowFlags, ROW_INEXACT, ROW_NESTED } from './debezium.ts';
import { isObj } from './shape.ts';

function inexact(v: JsonValue | undefined): boolean {
  if (typeof v === 'number') return !Number.isSafeInteger(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (const x of v) if (inexact(x)) return true;
    return false;
  }
  for (const k in v) if (inexact((v as Row)[k])) return true;
  return false;
}

function sourceInexact(doc: unknown): boolean {
  const payload = isObj(doc) && isObj(doc.payload) ? doc.payload : doc;
  if (!isObj(payload)) return false;
  const source = payload.source;
  if (!isObj(source)) {
    // ExtractNewRecordState output: positions live in added `__` fields (`__lsn`, `__source_pos`).
    for (const k in payload) {
      const v = payload[k];
      if (k.startsWith('__') && typeof v === 'number' && !Number.isSafeInteger(v)) return true;
    }
    return false;
  }
  // Named reads (a loop over the names would be a keyed load per field, per event).
  return (
    unsafeNumber(source.lsn) ||
    unsafeNumber(source.scn) ||
    unsafeNumber(source.commit_scn) ||
    unsafeNumber(source.pos) ||
    unsafeNumber(source.ord) ||
    unsafeNumber(source.event_serial_no)
  );
}

/** A number JSON.parse may have rounded. */
function unsafeNumber(v: unknown): boolean {
  return typeof v === 'number' && !Number.isSafeInteger(v);
}

/**
 * Parses and decodes a Debezium value given as JSON text (null/empty text = tombstone).
 * `ctx.key`, when given, must already be parsed exactly (`parseExactJson`).
 */
export function decodeDebeziumText(text: string | null, ctx: KafkaContext = {}): ChangeEvent | null {
  if (text === null || text === '') return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new DecodeError(
      ErrorCode.BadJson,
      `the Kafka value is not valid JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
  // Decoding mutates nothing the exact retry needs: it re-parses from the text.
  const event = decodeDebeziumValue(doc, ctx);
  if (event === null) return null;
  // The decoder flagged top-level rounding risks while scanning the rows; nested values (JSON
  // columns, MongoDB documents) are walked only when present. The key was parsed exactly by the caller.
  const flags = lastRowFlags();
  if (
    (flags & ROW_INEXACT) !== 0 ||
    ((flags & ROW_NESTED) !== 0 && (inexact(event.after) || inexact(event.before))) ||
    sourceInexact(doc)
  ) {
    return decodeDebeziumValue(parseExactJson(text), ctx);
  }
  return event;
}
