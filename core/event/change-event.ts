/**
 * The one change model every source decodes into. Nothing downstream of a decoder knows which
 * source a ChangeEvent came from.
 *
 * Invariants:
 * - `version` is source-native and totally ordered per key (see `version.ts`); compare it only with
 *   `compareVersions`, never as a JS number.
 * - Row values are JSON values; integers beyond 2^53 and decimals that a double cannot hold exactly
 *   are `JSON.rawJSON` objects carrying their exact digits (see `core/json`).
 * - `before` / `after` are `null` when the record carries no such image: the row did not exist on
 *   that side (create / delete), or the source did not capture it (DynamoDB KEYS_ONLY, a MongoDB
 *   patch). `op` says which; rules never read a missing image as an empty row.
 */

/** The sources cdc-cache decodes. */
export const Sources = ['dynamodb', 'debezium'] as const;
/** Which family of change stream a ChangeEvent came from. */
export type Source = (typeof Sources)[number];

/** Row-level operations. `read` is a snapshot row; `truncate` has no key and no images. */
export const Ops = ['create', 'update', 'delete', 'truncate', 'read'] as const;
/** One of {@link Ops}. */
export type Op = (typeof Ops)[number];

/** A JSON value as decoded (numbers may be `JSON.rawJSON` objects when a double would round them). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | RawNumber
  | JsonValue[]
  | { [field: string]: JsonValue };

/** A number kept as its exact source text (`JSON.rawJSON`); `JSON.stringify` writes it back verbatim. */
export interface RawNumber {
  readonly rawJSON: string;
}

/** A row image or key: field name → value. */
export type Row = { [field: string]: JsonValue };

/** Why an image is partial: the source setting that decides it (named in dead-letter fixes). */
export const PartialCauses = ['replica-identity', 'binlog-row-image'] as const;
/** One of {@link PartialCauses}: PostgreSQL REPLICA IDENTITY DEFAULT/USING INDEX, MySQL binlog_row_image=MINIMAL. */
export type PartialCause = (typeof PartialCauses)[number];

/**
 * Which fields of an image the source really captured, when not all of them. `before: ['id']`: the
 * old image holds only the key (PostgreSQL REPLICA IDENTITY DEFAULT delete); `before: []`: the
 * source sent no old image of an update. A side that is absent is fully captured (or null because
 * the row did not exist there). Rules never build a key from a field outside these lists.
 */
export interface PartialImage {
  before?: string[];
  after?: string[];
  cause: PartialCause;
}

/** Where a record sits in its source, for checkpoints and dead letters. */
export type SourcePosition =
  | { kind: 'kafka'; topic: string; partition: number; offset: string }
  | { kind: 'dynamodb'; streamArn?: string; shardId?: string; sequenceNumber: string }
  | { kind: 'kinesis'; streamArn?: string; shardId?: string; sequenceNumber: string }
  | { kind: 'file'; file: string; line: number };

/** One row change, normalised across sources. */
export interface ChangeEvent {
  /** Source family. */
  source: Source;
  /** Table (DynamoDB table, SQL table, MongoDB collection). */
  table: string;
  /** Schema (PostgreSQL, SQL Server) or database (MySQL, MongoDB); null for DynamoDB. */
  namespace: string | null;
  /** The operation. */
  op: Op;
  /** Primary key fields, or null when the record carries none (rules may name key fields). */
  key: Row | null;
  /** Row image before the change, or null when absent. */
  before: Row | null;
  /** Row image after the change, or null when absent. */
  after: Row | null;
  /** Source-native ordering position as decimal components joined by `.` (see `version.ts`). */
  version: string;
  /** Commit time, epoch milliseconds (0 when the source gives none). */
  ts: number;
  /** Set when a DynamoDB TTL expiry deleted the item. */
  ttlExpired?: true;
  /** Fields whose value the source did not send (PostgreSQL unchanged TOAST). Never use them as values. */
  unavailable?: string[];
  /** Fields kept as raw source text because they could not be decoded exactly (decimals without a schema). */
  raw?: string[];
  /**
   * Set when the source captured an image only in part (see {@link PartialImage}). The decoder has
   * removed the source's stand-in values from that image, so it holds only what was really captured.
   */
  partial?: PartialImage;
  /**
   * Set on a relational update or delete whose record carried no schema and whose old image looks
   * whole: without a schema a column's default cannot be told from a captured value (a NOT NULL
   * column with a DEFAULT reads as captured in a key-only image), so rules read its non-key fields
   * only for tables declared or verified full (core/rules/partial-policy.ts). Names the source
   * setting that decides it.
   */
  beforeUnverified?: PartialCause;
  /** Where the record came from. */
  position?: SourcePosition;
}

/** Formats a source position as a short human string, e.g. `orders/3@1042` or `log.jsonl:12`. */
export function formatPosition(position: SourcePosition | undefined): string {
  if (position === undefined) return 'unknown position';
  switch (position.kind) {
    case 'kafka':
      return `${position.topic}/${position.partition}@${position.offset}`;
    case 'dynamodb':
    case 'kinesis':
      return `${position.shardId ?? position.streamArn ?? position.kind}@${position.sequenceNumber}`;
    case 'file':
      return `${position.file}:${position.line}`;
  }
}
