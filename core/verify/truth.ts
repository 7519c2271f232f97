/**
 * Sources of truth: read the current row a change is about. The verifier only needs
 * `read(event)`; the database clients are injected (the CLI loads `pg` / `@aws-sdk/client-dynamodb`
 * lazily), so core never imports them.
 *
 * Rows come back as the decoders would build them, so the planner's projection of the current row is
 * byte-identical to what the pipeline writes for the same row:
 * - PostgreSQL: `SELECT row_to_json(t)::text … WHERE pk = $1`, parsed with exact numbers. Types whose
 *   JSON differs between `row_to_json` and Debezium (timestamps as epoch numbers, bytea, decimals as
 *   base64) differ here too: project such columns away (`refresh.fields`, `--expect`) or compare them
 *   through the app's own loader.
 * - DynamoDB: `GetItem` with `ConsistentRead`, the item decoded by the DynamoDB stream decoder.
 */
import { decodeDynamoDbRecord } from '../decode/dynamodb.ts';
import type { ChangeEvent, Row } from '../event/change-event.ts';
import { parseExactJson, scalarText } from '../json/exact-json.ts';

/** Reads the current row of the change's table and key (null: the row does not exist). */
export interface TruthSource {
  /** Kind, for reports: `postgres`, `dynamodb`. */
  readonly kind: string;
  read(event: ChangeEvent): Promise<Row | null>;
  close(): Promise<void>;
}

/** A parameterised SQL query: resolves with the rows' first column values. */
export type SqlQuery = (text: string, params: readonly string[]) => Promise<unknown[]>;

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The SELECT that reads one row as JSON text by its key fields (exported for tests and docs). */
export function rowQuery(event: ChangeEvent): { text: string; params: string[] } {
  if (event.key === null || Object.keys(event.key).length === 0) {
    throw new Error(`${event.table}: the change carries no key, so its row cannot be read (set keyFields)`);
  }
  const table =
    event.namespace === null
      ? quoteIdent(event.table)
      : `${quoteIdent(event.namespace)}.${quoteIdent(event.table)}`;
  const names = Object.keys(event.key);
  const where = names.map((n, i) => `t.${quoteIdent(n)} = $${i + 1}`).join(' AND ');
  const params = names.map((n) => scalarText(event.key![n]!));
  return { text: `SELECT row_to_json(t)::text FROM ${table} t WHERE ${where}`, params };
}

/** A PostgreSQL source of truth over `query` (e.g. a `pg` Pool's query, first column of each row). */
export function postgresTruth(query: SqlQuery, close: () => Promise<void> = async () => {}): TruthSource {
  return {
    kind: 'postgres',
    async read(event) {
      const { text, params } = rowQuery(event);
      const rows = await query(text, params);
      const first = rows[0];
      if (first === undefined || first === null) return null;
      return parseExactJson(String(first)) as Row;
    },
    close,
  };
}

/** A DynamoDB `GetItem` (ConsistentRead): the item's attribute-value map, or undefined. */
export type GetItem = (
  table: string,
  key: Record<string, unknown>,
) => Promise<Record<string, unknown> | undefined>;

/**
 * A DynamoDB source of truth over `getItem`. The item's key is typed from the change's decoded key
 * (strings as `S`, numbers as `N` with their exact digits; binary keys are not supported), and the
 * item is decoded by the stream decoder, so projections match the pipeline's byte for byte.
 */
export function dynamodbTruth(getItem: GetItem, close: () => Promise<void> = async () => {}): TruthSource {
  return {
    kind: 'dynamodb',
    async read(event) {
      if (event.key === null) throw new Error(`${event.table}: the change carries no key`);
      const key: Record<string, unknown> = {};
      for (const [name, v] of Object.entries(event.key)) {
        if (typeof v === 'string') key[name] = { S: v };
        else if (typeof v === 'number' || (typeof v === 'object' && v !== null && 'rawJSON' in v))
          key[name] = { N: scalarText(v) };
        else throw new Error(`${event.table}: key field "${name}" is not a string or number`);
      }
      const item = await getItem(event.table, key);
      if (item === undefined) return null;
      // Decode through the stream decoder, so values are exactly what the pipeline projected.
      const decoded = decodeDynamoDbRecord(
        {
          eventName: 'INSERT',
          dynamodb: { Keys: key, NewImage: item, SequenceNumber: '0', StreamViewType: 'NEW_IMAGE' },
        },
        { table: event.table },
      );
      return decoded.after;
    },
    close,
  };
}
