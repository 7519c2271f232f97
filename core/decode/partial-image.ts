/**
 * Recognises the partial images relational Debezium connectors send, so that no key is ever built
 * from a value the database did not really capture.
 *
 * - PostgreSQL, REPLICA IDENTITY DEFAULT (or USING INDEX): an update carries no old image
 *   (`before: null`); a delete's old image holds the key columns only, and Debezium fills every
 *   other column with a stand-in: null for nullable columns, the type's fallback for NOT NULL ones
 *   (`0`, `""`, `false`, the epoch, the column's schema default).
 * - MySQL / MariaDB, binlog_row_image=MINIMAL: the old image of an update or delete holds the
 *   primary key only, the new image of an update only the columns the statement set; the rest is
 *   filled the same way.
 *
 * What tells: an old image whose every non-key column (key columns from the Kafka record key) holds
 * a stand-in. A real row can look like that (all of its non-key columns null or zero); it is then
 * treated as partial too, which costs a dead letter or the rule's declared fallback, never a wrong
 * key. With a schema (JsonConverter `schemas.enable=true`) stand-ins are checked per column type
 * and optionality, defaults included. Without one they are checked by value, and a NOT NULL column
 * with a DEFAULT defeats that: Debezium writes the column's default (`'active'`, `true`), not a
 * type stand-in, so the image reads as full. Such an image is therefore never trusted by value
 * alone: the decoder marks every schemaless relational old image it does not find partial
 * `beforeUnverified`, and rules read its non-key fields only for tables declared full
 * (`images: "both"` written out) or confirmed FULL by `--pg` (rules/partial-policy.ts).
 *
 * Invariant: the event's images lose the stand-ins (copies; the record as it arrived is untouched,
 * for dead letters) and `partial` lists what remains, so nothing downstream can read them.
 */
import type { JsonValue, Op, PartialCause, PartialImage, Row } from '../event/change-event.ts';
import { isObj, type Obj } from './shape.ts';

/** Stand-in strings Debezium writes for NOT NULL columns it did not receive (schemaless check). */
const STAND_IN_TEXT =
  /^(?:0+(?:\.0+)?|AA==|1970-01-01(?:[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00(?::?00)?)?)?|00:00(?::00(?:\.0+)?)?Z?|0{8}-0{4}-0{4}-0{4}-0{12})$/;

const NUMERIC_TYPES = new Set(['int8', 'int16', 'int32', 'int64', 'float32', 'float64']);

function fieldSchema(struct: Obj | undefined, field: string): Obj | undefined {
  if (struct === undefined || !Array.isArray(struct.fields)) return undefined;
  for (const f of struct.fields) if (isObj(f) && f.field === field) return f;
  return undefined;
}

/** True when `v` is what the connector writes for a column it did not receive. */
function isStandIn(v: JsonValue | undefined, schema: Obj | undefined): boolean {
  if (v === null || v === undefined) return true;
  if (schema !== undefined) {
    if (schema.optional === true) return false; // an optional column it did not receive is null
    if (schema.default !== undefined && v === schema.default) return true;
    const type = schema.type;
    if (typeof type === 'string' && NUMERIC_TYPES.has(type)) return v === 0;
    if (type === 'boolean') return v === false;
  }
  if (v === 0 || v === false || v === '') return true;
  if (typeof v === 'string') return STAND_IN_TEXT.test(v);
  return false;
}

/** The source setting that makes images partial for a Debezium connector, if it is relational. */
export function partialCause(connector: unknown): PartialCause | undefined {
  if (connector === 'postgresql') return 'replica-identity';
  if (connector === 'mysql' || connector === 'mariadb') return 'binlog-row-image';
  return undefined;
}

/** A copy of `row` with only the fields `keep` accepts (the record as it arrived stays whole). */
function keepOnly(row: Row, keep: (field: string) => boolean): Row {
  const out: Row = {};
  for (const f of Object.keys(row)) if (keep(f)) out[f] = row[f]!;
  return out;
}

/** A partial image found in an event: the marker, and the images with their stand-ins removed. */
export interface DetectedPartial {
  partial: PartialImage;
  before: Row | null;
  after: Row | null;
}

/**
 * Detects a partial image in one relational Debezium event. `key` is the record key (Kafka key);
 * without it the key columns are unknown and nothing is detected from values (rules' declared
 * `images` still apply). Returns undefined for full images; never changes the rows it is given.
 */
export function detectPartialImage(
  cause: PartialCause,
  op: Op,
  before: Row | null,
  after: Row | null,
  key: Row | null,
  beforeSchema: Obj | undefined,
  afterSchema: Obj | undefined,
): DetectedPartial | undefined {
  if (op === 'update' && before === null) return { partial: { before: [], cause }, before, after };
  if ((op !== 'update' && op !== 'delete') || before === null || key === null) return undefined;
  let nonKey = 0;
  for (const f in before) {
    if (f in key) continue;
    nonKey++;
    if (!isStandIn(before[f], fieldSchema(beforeSchema, f))) return undefined;
  }
  if (nonKey === 0) return undefined; // a table of key columns only: the image is whole
  const oldImage = keepOnly(before, (f) => f in key);
  const partial: PartialImage = { before: Object.keys(oldImage), cause };
  let newImage = after;
  if (op === 'update' && after !== null && cause === 'binlog-row-image') {
    // MINIMAL: the new image of an update holds only the columns the statement set. A stand-in
    // cannot be told from a value set to zero, so it counts as not captured.
    newImage = keepOnly(
      after,
      (f) => (f in key && after[f] === key[f]) || !isStandIn(after[f], fieldSchema(afterSchema, f)),
    );
    partial.after = Object.keys(newImage);
  }
  return { partial, before: oldImage, after: newImage };
}
