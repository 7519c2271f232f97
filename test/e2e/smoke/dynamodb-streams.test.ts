/**
 * Smoke: PutItem/UpdateItem/DeleteItem in DynamoDB Local arrive as stream records
 * (client-dynamodb-streams) and decode with the core decoders.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbRecordJson } from '../../../consumers/record/capture.ts';
import { type ChangeEvent, compareVersions, decodeDocument } from '../../../core/index.ts';
import { captureDynamoDbScenario, DDB_SCENARIO_RECORDS } from '../../../infra/local/capture-fixtures.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';

describe('dynamodb local → streams → decoder', () => {
  const table = `e2e_orders_${process.pid}_${Date.now()}`;
  let records: DynamoDbRecordJson[] = [];
  let events: ChangeEvent[] = [];

  beforeAll(async () => {
    requireServices('dynamodb');
    records = await captureDynamoDbScenario(serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'), table);
    events = records.flatMap((r) => decodeDocument(JSON.stringify(r), { source: 'dynamodb', table }));
  });

  it('streams every change with its images', () => {
    expect(records).toHaveLength(DDB_SCENARIO_RECORDS);
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'INSERT', 'REMOVE', 'REMOVE']);
    expect(records[1]).toMatchObject({
      dynamodb: {
        StreamViewType: 'NEW_AND_OLD_IMAGES',
        OldImage: { status: { S: 'new' } },
        NewImage: { status: { S: 'paid' } },
        ApproximateCreationDateTime: expect.any(Number),
      },
    });
  });

  it('decodes into create/update/delete events ordered by sequence number', () => {
    expect(events.map((e) => e.op)).toEqual(['create', 'update', 'create', 'delete', 'delete']);
    for (const e of events) {
      expect(e.source).toBe('dynamodb');
      expect(e.table).toBe(table);
    }
    expect(events[0]?.key).toEqual({ pk: 'CUSTOMER#1001', sk: 'ORDER#5001' });
    expect(events[1]?.before).toMatchObject({ status: 'new' });
    expect(events[1]?.after).toMatchObject({ status: 'paid' });
    expect(events[1]?.after).not.toHaveProperty('note');
    // Integers beyond 2^53 keep their digits.
    expect(JSON.stringify(events[0]?.after)).toContain('"bigCounter":12345678901234567890');
    expect(events[3]?.after).toBeNull();
    for (let i = 1; i < events.length; i++) {
      expect(compareVersions(events[i - 1]?.version ?? '', events[i]?.version ?? '')).toBeLessThan(0);
    }
  });
});
