/**
 * MongoDB specifics of Debezium events: documents arrive as extended-JSON strings
 * (`after`, `before`, `updateDescription.updatedFields`, the legacy `patch` and `filter`), and the
 * Kafka key holds the `_id` as an extended-JSON string under `id`.
 *
 * Extended-JSON wrappers are simplified to plain values: `$oid` → hex string, `$numberLong` /
 * `$numberInt` / `$numberDouble` → exact numbers, `$numberDecimal` → decimal string, `$date` →
 * epoch ms (or its ISO text), `$binary` → base64.
 */

import { DecodeError, ErrorCode } from '../errors.ts';
import type { JsonValue, Row } from '../event/change-event.ts';
import { exactNumber, parseExactJson } from '../json/exact-json.ts';
import { isObj } from './shape.ts';

/** Simplifies MongoDB extended JSON into plain JSON values. */
export function simplifyExtendedJson(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(simplifyExtendedJson);
  if (!isObj(value) || 'rawJSON' in value) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const k = keys[0]!;
    const v = value[k] as JsonValue;
    switch (k) {
      case '$oid':
      case '$symbol':
        return v;
      case '$numberLong':
      case '$numberInt':
      case '$numberDouble':
        return typeof v === 'string' ? exactNumber(v) : v;
      case '$numberDecimal':
        return typeof v === 'string' ? v : simplifyExtendedJson(v);
      case '$date':
        return isObj(v) ? simplifyExtendedJson(v) : v;
      case '$binary':
        return isObj(v) && typeof v.base64 === 'string' ? v.base64 : v;
    }
  }
  const out: Row = {};
  for (const k of keys) out[k] = simplifyExtendedJson(value[k] as JsonValue);
  return out;
}

/** Parses an extended-JSON document string (or passes through an object) into a plain row. */
export function mongoDocument(value: unknown, field: string): Row | null {
  if (value === undefined || value === null) return null;
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = parseExactJson(value);
    } catch (cause) {
      throw new DecodeError(
        ErrorCode.BadJson,
        `field "${field}" is not valid extended JSON: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }
  if (!isObj(parsed)) throw new DecodeError(ErrorCode.BadShape, `field "${field}" must be a document`);
  return simplifyExtendedJson(parsed as Row) as Row;
}

/** Converts a MongoDB connector key document ({ id: "<extended JSON of _id>" }) into { _id }. */
export function mongoKey(key: Row): Row {
  const id = key.id;
  if (typeof id !== 'string') return key;
  try {
    return { _id: simplifyExtendedJson(parseExactJson(id) as JsonValue) };
  } catch {
    return { _id: id }; // A plain string id is sent unquoted by some connector versions.
  }
}
