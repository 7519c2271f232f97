/**
 * Smoke: INSERT/UPDATE/DELETE in PostgreSQL arrive in Kafka through both Debezium connectors (JSON
 * with schemas and without) and decode with the core decoders into the same ChangeEvents.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createKafkaClient } from '../../../consumers/kafka/kafka-client.ts';
import type { KafkaLine } from '../../../consumers/record/capture.ts';
import { type ChangeEvent, decodeDocument } from '../../../core/index.ts';
import {
  capturePgScenario,
  PG_SCENARIO_RECORDS,
  type PgScenarioIds,
} from '../../../infra/local/capture-fixtures.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';

function decode(line: KafkaLine): ChangeEvent[] {
  return decodeDocument(JSON.stringify(line), { source: 'debezium' });
}

/** What must agree between the two connectors' events (positions and timestamps aside). */
function essence(e: ChangeEvent): string {
  return JSON.stringify([
    e.source,
    e.namespace,
    e.table,
    e.op,
    e.key,
    e.before,
    e.after,
    e.version,
    e.unavailable ?? [],
    e.partial ?? null,
  ]);
}

describe('debezium postgres → kafka → decoder', () => {
  // Unique rows per run: the connectors and tables are shared with other tests.
  const base = 100_000 + ((process.pid * 7 + Date.now()) % 800_000);
  const ids: PgScenarioIds = { customer: base, order: base, document: base };
  let schemaLines: KafkaLine[] = [];
  let plainLines: KafkaLine[] = [];

  beforeAll(async () => {
    requireServices('postgres', 'kafka', 'connect');
    const kafka = await createKafkaClient({
      clientId: 'cdc-cache-e2e-smoke',
      brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(','),
    });
    const prefixes = [
      serviceEnv('CDC_CACHE_DEBEZIUM_SCHEMA_PREFIX'),
      serviceEnv('CDC_CACHE_DEBEZIUM_PLAIN_PREFIX'),
    ];
    [schemaLines = [], plainLines = []] = await capturePgScenario(kafka, {
      pgUrl: serviceEnv('CDC_CACHE_PG_URL'),
      prefixes,
      ids,
    });
  });

  it('both connectors wrote every change and the delete tombstones', () => {
    expect(schemaLines).toHaveLength(PG_SCENARIO_RECORDS);
    expect(plainLines).toHaveLength(PG_SCENARIO_RECORDS);
    // Raw Debezium shapes: envelope with schema vs. bare payload; tombstones have a null value.
    expect(schemaLines[0]?.value).toMatchObject({
      schema: { name: expect.stringMatching(/Envelope$/) },
      payload: { op: 'c' },
    });
    expect(plainLines[0]?.value).toMatchObject({
      op: 'c',
      source: { connector: 'postgresql', table: 'customers' },
    });
    expect(schemaLines.filter((l) => l.value === null)).toHaveLength(2);
    expect(plainLines.filter((l) => l.value === null)).toHaveLength(2);
  });

  it('decodes into create/update/delete events in commit order', () => {
    const events = schemaLines.flatMap(decode);
    expect(events.map((e) => `${e.table}:${e.op}`)).toEqual([
      'customers:create',
      'customers:update',
      'orders:create',
      'orders:update',
      'documents:create',
      'documents:update',
      'orders:delete',
      'customers:delete',
    ]);
    for (const e of events) {
      expect(e.source).toBe('debezium');
      expect(e.namespace).toBe('public');
      expect(e.key).toEqual({ id: base });
      expect(e.ts).toBeGreaterThan(0);
    }
    const [created, updated] = events;
    expect(created?.before).toBeNull();
    expect(created?.after).toMatchObject({ id: base, email: 'ada@example.com', tier: 'free' });
    // customers is REPLICA IDENTITY FULL: the update carries the whole old row.
    expect(updated?.before).toMatchObject({ tier: 'free' });
    expect(updated?.after).toMatchObject({ tier: 'gold' });
    // An unchanged TOASTed column is reported unavailable, never as a value.
    const docUpdate = events.find((e) => e.table === 'documents' && e.op === 'update');
    expect(docUpdate?.unavailable).toEqual(['body']);
    expect(docUpdate?.after).not.toHaveProperty('body');
    expect(events.at(-1)?.after).toBeNull();
    // orders is REPLICA IDENTITY DEFAULT (issue 14): the update has no old image and the delete's
    // old image is the key plus Debezium's stand-ins, which are removed and marked, never used.
    const orderUpdate = events.find((e) => e.table === 'orders' && e.op === 'update');
    expect(orderUpdate?.partial).toEqual({ before: [], cause: 'replica-identity' });
    const orderDelete = events.find((e) => e.table === 'orders' && e.op === 'delete');
    expect(orderDelete?.before).toEqual({ id: base });
    expect(orderDelete?.partial).toEqual({ before: ['id'], cause: 'replica-identity' });
  });

  it('decodes the same events from both connectors', () => {
    expect(plainLines.flatMap(decode).map(essence)).toEqual(schemaLines.flatMap(decode).map(essence));
  });
});
