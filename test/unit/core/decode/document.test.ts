/**
 * Lambda Kafka events (MSK and self-managed) carrying Debezium values
 * (test/fixtures/lambda-kafka; origins in its README.md).
 */
import { describe, expect, it } from 'vitest';
import { decodeDocument, splitDocument } from '../../../../core/decode/document.ts';
import { fixture } from '../../../support/fixtures.ts';

describe('Lambda Kafka events', () => {
  it('decodes an MSK event of Debezium values: base64 key/value, tombstone skipped, null key tolerated', () => {
    const doc = fixture('lambda-kafka/msk-debezium-event.json');
    const records = splitDocument(doc);
    expect(records).toHaveLength(5);
    expect(records.map((r) => r.label)).toEqual(
      [0, 1, 2, 3, 4].map((o) => `PostgreSQL_server.public.customers/0@${o}`),
    );
    const events = decodeDocument(doc);
    expect(events.map((e) => e.op)).toEqual(['create', 'update', 'delete', 'truncate']);
    expect(events[0]).toMatchObject({
      table: 'customers',
      namespace: 'public',
      key: { id: '1' },
      version: '24023128',
    });
    expect(events[0]!.position).toEqual({
      kind: 'kafka',
      topic: 'PostgreSQL_server.public.customers',
      partition: 0,
      offset: '0',
    });
    expect(events[3]!.key).toBeNull(); // record 4 (a truncate) has no key
  });

  it('accepts the self-managed event source shape', () => {
    const events = decodeDocument(fixture('lambda-kafka/self-managed-kafka-event-powertools.json'));
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]!.table).toBe('mytopic');
  });

  it('a value that is not JSON is a decode error naming topic, partition and offset', () => {
    expect(() => decodeDocument(fixture('lambda-kafka/self-managed-kafka-event.json'))).toThrow(
      /mytopic\/0@15: the Kafka value is not valid JSON/,
    );
  });

  it('--source lambda-kafka rejects documents of another shape', () => {
    expect(() =>
      decodeDocument(fixture('dynamodb/ttl-delete-record.json'), { source: 'lambda-kafka' }),
    ).toThrow(/not a Lambda Kafka event/);
    expect(() => decodeDocument(fixture('debezium/postgres-update.json'), { source: 'dynamodb' })).toThrow(
      /not a DynamoDB stream record/,
    );
  });
});
