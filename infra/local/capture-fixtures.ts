/**
 * Captures the committed change-log fixtures in test/fixtures/captured/ from the harness's real
 * services: a scripted set of row changes in PostgreSQL (read back from Kafka as written by both
 * Debezium connectors) and in DynamoDB Local (read back from its stream).
 *
 *   npm run services:up && node infra/local/capture-fixtures.ts [OUT_DIR]
 *
 * Row contents are fixed, so re-capturing changes only positions (LSNs, offsets, sequence numbers)
 * and timestamps. The scenarios are exported for the e2e smoke tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import pg from 'pg';
import { createAwsStreamsClient } from '../../consumers/dynamodb/aws-streams-client.ts';
import { createKafkaClient, toolKafkaClientName } from '../../consumers/kafka/kafka-client.ts';
import type { KafkaClientPort } from '../../consumers/kafka/kafka-port.ts';
import {
  type DynamoDbRecordJson,
  highWatermarks,
  type KafkaLine,
  readDynamoDbStream,
  readKafkaTopics,
  toJsonl,
} from '../../consumers/record/capture.ts';

/** Tables of the PostgreSQL scenario (schema `public`). */
export const PG_TABLES = ['customers', 'orders', 'documents'] as const;

/** Row ids the PostgreSQL scenario touches. */
export interface PgScenarioIds {
  customer: number;
  order: number;
  document: number;
}

/** Ids of the committed fixtures. */
export const FIXTURE_IDS: PgScenarioIds = { customer: 1001, order: 5001, document: 1 };

/**
 * Statements of the PostgreSQL scenario, in commit order. Covers create/update/delete on a
 * REPLICA IDENTITY FULL table (customers), a DEFAULT one (orders: key-only before image on delete),
 * jsonb and numeric values, and an unchanged TOASTed column (documents.body) on update.
 */
export function pgScenario(ids: PgScenarioIds = FIXTURE_IDS): string[] {
  const { customer: c, order: o, document: d } = ids;
  return [
    `INSERT INTO customers (id, email, name, tier, balance, updated_at)
       VALUES (${c}, 'ada@example.com', 'Ada', 'free', 12.50, '2026-01-02T03:04:05.123456Z')`,
    `UPDATE customers SET tier = 'gold', balance = 99.99, updated_at = '2026-01-02T03:05:00Z' WHERE id = ${c}`,
    `INSERT INTO orders (id, customer_id, status, total_cents, attrs, created_at)
       VALUES (${o}, ${c}, 'new', 2599, '{"gift": true, "tags": ["a", "b"]}', '2026-01-02T03:06:00Z')`,
    `UPDATE orders SET status = 'paid' WHERE id = ${o}`,
    `INSERT INTO documents (id, title, body) VALUES (${d}, 'draft', repeat('lorem ipsum ', 2000))`,
    `UPDATE documents SET title = 'final' WHERE id = ${d}`,
    `DELETE FROM orders WHERE id = ${o}`,
    `DELETE FROM customers WHERE id = ${c}`,
  ];
}

/** Records each connector writes for {@link pgScenario}: 8 changes + 2 delete tombstones. */
export const PG_SCENARIO_RECORDS = 10;

/**
 * Runs {@link pgScenario}. With `truncate` (fixture capture only: it races with other tests) the
 * tables are emptied first; Debezium skips truncates by default, so that emits nothing.
 */
export async function runPgScenario(url: string, ids: PgScenarioIds, truncate: boolean): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (truncate) await client.query(`TRUNCATE ${PG_TABLES.join(', ')}`);
    for (const sql of pgScenario(ids)) await client.query(sql);
  } finally {
    await client.end();
  }
}

/** True when a captured line belongs to the scenario run with `ids` (by table and key). */
export function isScenarioLine(line: KafkaLine, ids: PgScenarioIds): boolean {
  const id =
    (line.key as { id?: unknown } | null)?.id ??
    (line.key as { payload?: { id?: unknown } } | null)?.payload?.id;
  const table = line.topic.slice(line.topic.lastIndexOf('.') + 1);
  return (
    (table === 'customers' && id === ids.customer) ||
    (table === 'orders' && id === ids.order) ||
    (table === 'documents' && id === ids.document)
  );
}

/** Topics a connector with `prefix` writes for {@link PG_TABLES}. */
export function pgTopics(prefix: string): string[] {
  return PG_TABLES.map((t) => `${prefix}.public.${t}`);
}

function lsnOf(value: unknown): bigint | undefined {
  const v = value as { payload?: { source?: { lsn?: unknown } }; source?: { lsn?: unknown } } | null;
  const lsn = v?.payload?.source?.lsn ?? v?.source?.lsn;
  return lsn === undefined || lsn === null ? undefined : BigInt(String(lsn));
}

/** Orders lines from several topics by commit position (LSN); a tombstone follows its delete. */
export function sortByLsn(lines: readonly KafkaLine[]): KafkaLine[] {
  const byPos = new Map(lines.map((l) => [`${l.topic}/${l.partition}/${l.offset}`, l]));
  const lsn = (l: KafkaLine): bigint => {
    const own = lsnOf(l.value);
    if (own !== undefined) return own;
    const prev = byPos.get(`${l.topic}/${l.partition}/${BigInt(l.offset) - 1n}`);
    return prev ? lsn(prev) : 0n;
  };
  return [...lines].sort((a, b) => {
    const d = lsn(a) - lsn(b);
    if (d !== 0n) return d < 0n ? -1 : 1;
    if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
    return Number(BigInt(a.offset) - BigInt(b.offset));
  });
}

/** Options of {@link capturePgScenario}. */
export interface CapturePgOptions {
  pgUrl: string;
  /** Topic prefixes of the connectors to read, one result per prefix. */
  prefixes: readonly string[];
  /** @default FIXTURE_IDS */
  ids?: PgScenarioIds;
  /** Empty the tables first (never while other tests run). @default false */
  truncate?: boolean;
  /** @default 90_000 */
  timeoutMs?: number;
}

/**
 * Runs the PostgreSQL scenario and returns, per connector prefix, the records it wrote for it in
 * commit order (other rows' records, from concurrent tests, are left out).
 */
export async function capturePgScenario(
  kafka: KafkaClientPort,
  options: CapturePgOptions,
): Promise<KafkaLine[][]> {
  const ids = options.ids ?? FIXTURE_IDS;
  const topics = options.prefixes.flatMap(pgTopics);
  const admin = kafka.admin();
  const from = await highWatermarks(admin, topics).finally(() => admin.close());
  await runPgScenario(options.pgUrl, ids, options.truncate ?? false);
  const mine = (lines: readonly KafkaLine[]) => lines.filter((l) => isScenarioLine(l, ids));
  const lines = await readKafkaTopics(kafka, {
    topics,
    from,
    until: (l) => mine(l).length >= PG_SCENARIO_RECORDS * options.prefixes.length,
    settleMs: 1000,
    timeoutMs: options.timeoutMs ?? 90_000,
  });
  return options.prefixes.map((p) => sortByLsn(mine(lines).filter((l) => l.topic.startsWith(`${p}.`))));
}

/** Table of the DynamoDB scenario. */
export const DDB_TABLE = 'orders';

/**
 * The DynamoDB scenario: composite key, every attribute type, a conditional update that SETs and
 * REMOVEs, a second item, deletes. Returns the table's stream ARN.
 */
export async function runDynamoDbScenario(db: DynamoDBClient, table = DDB_TABLE): Promise<string> {
  try {
    await db.send(new DeleteTableCommand({ TableName: table }));
  } catch (e) {
    if (!(e instanceof ResourceNotFoundException)) throw e;
  }
  await db.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const key = { pk: { S: 'CUSTOMER#1001' }, sk: { S: 'ORDER#5001' } };
  await db.send(
    new PutItemCommand({
      TableName: table,
      Item: {
        ...key,
        status: { S: 'new' },
        total: { N: '25.99' },
        bigCounter: { N: '12345678901234567890' },
        gift: { BOOL: true },
        note: { NULL: true },
        tags: { SS: ['a', 'b'] },
        scores: { NS: ['1', '2.5'] },
        payload: { B: Buffer.from('cdc-cache') },
        lines: { L: [{ M: { sku: { S: 'X-1' }, qty: { N: '2' } } }] },
        address: { M: { city: { S: 'Lisbon' }, zip: { S: '1000-001' } } },
      },
    }),
  );
  await db.send(
    new UpdateItemCommand({
      TableName: table,
      Key: key,
      UpdateExpression: 'SET #s = :paid, #t = :t REMOVE note',
      ConditionExpression: '#s = :new',
      ExpressionAttributeNames: { '#s': 'status', '#t': 'total' },
      ExpressionAttributeValues: { ':paid': { S: 'paid' }, ':new': { S: 'new' }, ':t': { N: '27.5' } },
    }),
  );
  const key2 = { pk: { S: 'CUSTOMER#1002' }, sk: { S: 'ORDER#5002' } };
  await db.send(
    new PutItemCommand({ TableName: table, Item: { ...key2, status: { S: 'new' }, total: { N: '1' } } }),
  );
  await db.send(new DeleteItemCommand({ TableName: table, Key: key }));
  await db.send(new DeleteItemCommand({ TableName: table, Key: key2 }));
  const d = await db.send(new DescribeTableCommand({ TableName: table }));
  const arn = d.Table?.LatestStreamArn;
  if (!arn) throw new Error(`table ${table} has no stream`);
  return arn;
}

/** Records the DynamoDB scenario produces: put, update, put, delete, delete. */
export const DDB_SCENARIO_RECORDS = 5;

/** Runs the DynamoDB scenario and returns its stream records as wire JSON. */
export async function captureDynamoDbScenario(
  endpoint: string,
  table = DDB_TABLE,
): Promise<DynamoDbRecordJson[]> {
  const config = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const db = new DynamoDBClient(config);
  const streams = createAwsStreamsClient({ endpoint, region: 'us-east-1', maxAttempts: 3 });
  try {
    const streamArn = await runDynamoDbScenario(db, table);
    return await readDynamoDbStream(streams, {
      streamArn,
      until: (r) => r.length >= DDB_SCENARIO_RECORDS,
      timeoutMs: 30_000,
    });
  } finally {
    db.destroy();
    streams.close();
  }
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: eval "$(bash infra/local/services.sh env)" first`);
  return v;
}

async function main(): Promise<void> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const out = path.resolve(process.argv[2] ?? path.join(here, '../../test/fixtures/captured'));
  mkdirSync(out, { recursive: true });

  const records = await captureDynamoDbScenario(env('CDC_CACHE_DYNAMODB_ENDPOINT'));
  if (records.length !== DDB_SCENARIO_RECORDS)
    throw new Error(`expected ${DDB_SCENARIO_RECORDS} DynamoDB records, got ${records.length}`);
  writeFileSync(path.join(out, 'dynamodb-streams.jsonl'), toJsonl(records));

  const kafka = await createKafkaClient(
    { clientId: 'cdc-cache-capture', brokers: env('CDC_CACHE_KAFKA_BROKERS').split(',') },
    toolKafkaClientName(),
  );
  const prefixes = [env('CDC_CACHE_DEBEZIUM_SCHEMA_PREFIX'), env('CDC_CACHE_DEBEZIUM_PLAIN_PREFIX')];
  const [schema, plain] = await capturePgScenario(kafka, {
    pgUrl: env('CDC_CACHE_PG_URL'),
    prefixes,
    truncate: true,
  });
  for (const [name, lines] of [
    ['debezium-postgres-schema.jsonl', schema],
    ['debezium-postgres-plain.jsonl', plain],
  ] as const) {
    if (lines?.length !== PG_SCENARIO_RECORDS)
      throw new Error(`${name}: expected ${PG_SCENARIO_RECORDS} records, got ${lines?.length}`);
    writeFileSync(path.join(out, name), toJsonl(lines));
  }
  console.log(
    `captured ${records.length} DynamoDB and 2×${PG_SCENARIO_RECORDS} Debezium records into ${out}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
