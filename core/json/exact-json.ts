/**
 * Exact JSON: parsing that never rounds a number, and helpers for the `JSON.rawJSON` values it
 * produces.
 *
 * Plain `JSON.parse` turns 9007199254740993 into 9007199254740992. Change events carry int64 keys,
 * DynamoDB numbers of up to 38 digits and exact decimals, so every source document is parsed here.
 * Fast path: when the text has no run of 16 or more digits, no number in it can lose precision and
 * plain `JSON.parse` is used (this is nearly every event). Otherwise a reviver with source-text
 * access (Node 22+) keeps each inexact number as `JSON.rawJSON(source)`, which `JSON.stringify`
 * writes back verbatim.
 */
import type { JsonValue, RawNumber } from '../event/change-event.ts';

interface ReviverContext {
  source?: string;
}

// `JSON.rawJSON` / `JSON.isRawJSON` are in Node 22+ but not yet in TypeScript's lib.
const json = JSON as unknown as {
  rawJSON(text: string): RawNumber;
  isRawJSON(value: unknown): value is RawNumber;
  parse(
    text: string,
    reviver: (this: unknown, key: string, value: unknown, context: ReviverContext) => unknown,
  ): unknown;
};

const LONG_DIGITS = /\d{16}/;

/** Significant digits a double always round-trips. */
const SAFE_SIGNIFICANT_DIGITS = 15;

function significantDigits(text: string): number {
  let count = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 101 || c === 69) break; // e / E: exponent follows
    if (c < 48 || c > 57) continue; // sign, decimal point
    if (leading && c === 48) continue;
    leading = false;
    count++;
  }
  return count;
}

/**
 * Converts the source text of a JSON number to a value: a JS number when that is exact,
 * otherwise a `JSON.rawJSON` object with the exact digits.
 */
export function exactNumber(text: string): number | RawNumber {
  const n = Number(text);
  if (Number.isSafeInteger(n)) return n;
  if (!Number.isFinite(n)) return json.rawJSON(text);
  if (significantDigits(text) <= SAFE_SIGNIFICANT_DIGITS || String(n) === text) return n;
  return json.rawJSON(text);
}

function reviver(_key: string, value: unknown, context: ReviverContext): unknown {
  if (typeof value === 'number' && context.source !== undefined && !Number.isSafeInteger(value)) {
    return exactNumber(context.source);
  }
  return value;
}

/** Parses JSON text without rounding any number. Throws `SyntaxError` like `JSON.parse`. */
export function parseExactJson(text: string): unknown {
  // Text shorter than 16 characters (a Kafka key such as {"id":42}) cannot hold 16 digits: no scan.
  if (text.length < 16 || !LONG_DIGITS.test(text)) return JSON.parse(text);
  return json.parse(text, reviver);
}

/** Debezium's microsecond/nanosecond timestamps: 16–19 digits in every modern event, never used exactly. */
const METADATA_KEY_BEFORE = /"(?:ts_us|ts_ns)"\s*:\s*$/;

/**
 * Parses a source document (a change-log line, a decode input) exactly where it matters and fast
 * where it does not: long digit runs that are not number tokens (inside strings, DynamoDB `N`
 * values) or that are Debezium's `ts_us` / `ts_ns` metadata do not force the reviver path. Any
 * other number of 16+ digits does, so row values, keys and positions keep their exact digits.
 * `ts_us` / `ts_ns` may be rounded.
 */
export function parseDocumentJson(text: string): unknown {
  const runs = /\d{16,}/g;
  for (let m = runs.exec(text); m !== null; m = runs.exec(text)) {
    let i = m.index - 1;
    while (i >= 0 && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i--;
    const c = text[i];
    if (c !== ':' && c !== ',' && c !== '[' && c !== '-') continue; // not a number token
    if (c === ':' && METADATA_KEY_BEFORE.test(text.slice(Math.max(0, i - 12), i + 1))) continue;
    return json.parse(text, reviver);
  }
  return JSON.parse(text);
}

/** True when `value` is a number kept as exact source text. */
export function isRawNumber(value: unknown): value is RawNumber {
  return typeof value === 'object' && value !== null && json.isRawJSON(value);
}

/** Wraps exact numeric text (e.g. a DynamoDB `N`) so it serialises as a JSON number, verbatim. */
export function rawNumber(text: string): RawNumber {
  return json.rawJSON(text);
}

/** Renders a scalar for use inside a cache key: strings as-is, numbers with their exact digits. */
export function scalarText(value: JsonValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (isRawNumber(value)) return value.rawJSON;
  return JSON.stringify(value);
}
