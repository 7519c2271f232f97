/**
 * DynamoDB AttributeValue → JSON, exactly as `toJson(unmarshall(map, { wrapNumbers: exactNumber }))`
 * with `@aws-sdk/util-dynamodb` did (test/unit/decode/attribute-value.test.ts compares the two on
 * every kind), without its peer dependency on `@aws-sdk/client-dynamodb` (15 MB) in the core install.
 *
 * - `S` → string; `BOOL` → boolean (`Boolean(value)`); `NULL` → null.
 * - `N` → a JSON number when a double holds it exactly, else `JSON.rawJSON` with the same digits;
 *   `NS` → an array of those.
 * - `B` → base64 (bytes from the SDK are encoded; a base64 string from a JSON event stays as is);
 *   `BS` → an array of those. `SS` → an array of strings.
 * - `M` → an object (own properties, so an attribute named `__proto__` is kept); `L` → an array.
 * - The first attribute type with a defined value wins, as in the SDK; an unknown type or an empty
 *   attribute value throws.
 */
import type { JsonValue, Row } from '../event/change-event.ts';
import { exactNumber } from '../json/exact-json.ts';

function binary(value: unknown): JsonValue {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  return value as JsonValue;
}

function list(value: unknown, type: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`"${type}" must be an array, got ${JSON.stringify(value)}`);
  return value;
}

/** Converts one AttributeValue (`{ "S": "x" }`, `{ "N": "1" }`, …) to its JSON value. */
export function attributeValueToJson(attribute: unknown): JsonValue {
  if (typeof attribute !== 'object' || attribute === null || Array.isArray(attribute))
    throw new Error(
      `an attribute value must be an object like {"S":"text"}, got ${JSON.stringify(attribute)}`,
    );
  for (const [type, value] of Object.entries(attribute)) {
    if (value === undefined) continue;
    switch (type) {
      case 'NULL':
        return null;
      case 'BOOL':
        return Boolean(value);
      case 'N':
        return exactNumber(value as string) as JsonValue;
      case 'B':
        return binary(value);
      case 'S':
        return value as JsonValue;
      case 'L':
        return list(value, type).map(attributeValueToJson);
      case 'M':
        return attributeMapToRow(value);
      case 'NS':
        return list(value, type).map((n) => exactNumber(n as string) as JsonValue);
      case 'BS':
        return list(value, type).map(binary);
      case 'SS':
        return list(value, type) as JsonValue[];
      default:
        throw new Error(`Unsupported type passed: ${type}`);
    }
  }
  throw new Error(`No value defined: ${JSON.stringify(attribute)}`);
}

/** Converts an attribute map (an item, `Keys`, `NewImage`, `OldImage`) to a row. */
export function attributeMapToRow(map: unknown): Row {
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new Error(`an attribute map must be an object, got ${JSON.stringify(map)}`);
  const row: Row = {};
  for (const [name, attribute] of Object.entries(map))
    Object.defineProperty(row, name, {
      value: attributeValueToJson(attribute),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return row;
}
