/**
 * Kafka Connect schema handling for Debezium JSON-converter events with schemas.
 *
 * Only the logical types a double or plain JSON cannot carry exactly are converted:
 * `org.apache.kafka.connect.data.Decimal` (base64 big-endian two's-complement unscaled value,
 * `parameters.scale`) and `io.debezium.data.VariableScaleDecimal` ({ scale, value }) become exact
 * decimal strings that keep their scale ("1.50"). Everything else passes through unchanged.
 */
import type { JsonValue, Row } from '../event/change-event.ts';
import { isObj, type Obj } from './shape.ts';

const DECIMAL = 'org.apache.kafka.connect.data.Decimal';
const VARIABLE_DECIMAL = 'io.debezium.data.VariableScaleDecimal';

/** Decodes a base64 big-endian two's-complement integer into its exact decimal digits. */
export function unscaledFromBase64(b64: string): bigint {
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length === 0) return 0n;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if ((bytes[0]! & 0x80) !== 0) n -= 1n << BigInt(bytes.length * 8);
  return n;
}

/** Formats an unscaled integer with `scale` fractional digits: (12345n, 2) → "123.45". */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  let digits = (negative ? -unscaled : unscaled).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  } else if (scale < 0) {
    digits += '0'.repeat(-scale);
  }
  return negative ? `-${digits}` : digits;
}

/** True when a field schema (or a nested one) needs conversion; used to skip work for plain rows. */
function needsWork(schema: Obj): boolean {
  const name = schema.name;
  if (name === DECIMAL || name === VARIABLE_DECIMAL) return true;
  if (schema.type === 'struct' && Array.isArray(schema.fields))
    return schema.fields.some((f) => isObj(f) && needsWork(f));
  if (schema.type === 'array' && isObj(schema.items)) return needsWork(schema.items);
  return false;
}

function convert(value: JsonValue, schema: Obj): JsonValue {
  if (value === null || value === undefined) return value;
  const name = schema.name;
  if (name === DECIMAL && typeof value === 'string') {
    const params = isObj(schema.parameters) ? schema.parameters : {};
    const scale = Number(params.scale ?? 0);
    return formatDecimal(unscaledFromBase64(value), Number.isInteger(scale) ? scale : 0);
  }
  if (name === VARIABLE_DECIMAL && isObj(value) && typeof value.value === 'string') {
    return formatDecimal(unscaledFromBase64(value.value), Number(value.scale ?? 0));
  }
  if (schema.type === 'struct' && isObj(value) && Array.isArray(schema.fields)) {
    return convertRow(value as Row, schema.fields);
  }
  if (schema.type === 'array' && Array.isArray(value) && isObj(schema.items)) {
    const items = schema.items;
    return value.map((v) => convert(v, items));
  }
  return value;
}

function convertRow(row: Row, fields: unknown[]): Row {
  for (const f of fields) {
    if (!isObj(f) || typeof f.field !== 'string' || !needsWork(f)) continue;
    const v = row[f.field];
    if (v !== undefined) row[f.field] = convert(v, f);
  }
  return row;
}

/** Finds the struct schema of an envelope field (`before` / `after`) in an Envelope schema. */
export function envelopeFieldSchema(envelope: unknown, field: string): Obj | undefined {
  if (!isObj(envelope) || !Array.isArray(envelope.fields)) return undefined;
  for (const f of envelope.fields) if (isObj(f) && f.field === field) return f;
  return undefined;
}

/** Applies a row struct schema to a row in place (decimals → exact strings) and returns it. */
export function applyRowSchema(row: Row | null, schema: Obj | undefined): Row | null {
  if (row === null || schema === undefined || !Array.isArray(schema.fields)) return row;
  return convertRow(row, schema.fields);
}

/** True for a schemaless VariableScaleDecimal ({ scale, value }), which is kept raw. */
export function isRawDecimal(v: unknown): boolean {
  return (
    isObj(v) && typeof v.value === 'string' && typeof v.scale === 'number' && Object.keys(v).length === 2
  );
}
