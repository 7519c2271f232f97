/**
 * Small shape helpers for decoders: typed field access that throws DecodeError with a message
 * naming the field and what was expected, so bad input explains itself.
 */
import { DecodeError, ErrorCode } from '../errors.ts';

/** A plain JSON object. */
export type Obj = Record<string, unknown>;

/** True for a non-null, non-array object. */
export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Describes a value's JSON type for error messages. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Throws a DecodeError for a missing or mistyped field. */
export function fieldError(path: string, expected: string, actual: unknown): DecodeError {
  const what = actual === undefined ? 'missing' : `a ${typeName(actual)}`;
  return new DecodeError(ErrorCode.MissingField, `field "${path}" must be ${expected}, got ${what}`);
}

/** Reads a required object field. */
export function objField(obj: Obj, name: string, path = name): Obj {
  const v = obj[name];
  if (!isObj(v)) throw fieldError(path, 'an object', v);
  return v;
}

/** Reads a required string field. */
export function strField(obj: Obj, name: string, path = name): string {
  const v = obj[name];
  if (typeof v !== 'string') throw fieldError(path, 'a string', v);
  return v;
}

/** Reads an optional string field (undefined when absent or null). */
export function optStr(obj: Obj, name: string, path = name): string | undefined {
  const v = obj[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw fieldError(path, 'a string', v);
  return v;
}

/** Reads an optional integer-like field (number or digit string) as its exact decimal text. */
export function optIntText(obj: Obj, name: string, path = name): string | undefined {
  const v = obj[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  if (typeof v === 'object' && typeof (v as { rawJSON?: unknown }).rawJSON === 'string') {
    const raw = (v as { rawJSON: string }).rawJSON;
    if (/^\d+$/.test(raw)) return raw;
  }
  throw fieldError(path, 'a non-negative integer', v);
}
