/**
 * `cdc-cache record` against the real services: what it captures from Kafka and from a DynamoDB
 * Local stream is a change log that `decode` reads back into the same changes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../core/decode/document.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', '..', '..', 'bin', 'cdc-cache.ts');
const dir = mkdtempSync(join(tmpdir(), 'cdc-record-'));

describe('cdc-cache record kafka', () => {
  beforeAll(() => requireServices('kafka'));

  it('captures what a topic holds, keys and values exact, as change-log lines', async () => {
    const brokers = serviceEnv('CDC_CACHE_KAFKA_BROKERS');
    const topic = `it_record_${process.pid}_${Date.now()}.public.users`;
    const kafka = new Kafka({
      clientId: 'it-record',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const value = (op: string, id: string, lsn: number) =>
      `{"op":"${op}","before":null,"after":{"id":${id},"name":"n${lsn}"},"source":{"connector":"postgresql","schema":"public","table":"users","lsn":${lsn}}}`;
    await producer.send({
      topic,
      messages: [
        { key: '{"id":9007199254740993}', value: value('c', '9007199254740993', 100) },
        { key: '{"id":2}', value: value('c', '2', 101) },
        { key: '{"id":2}', value: null },
      ],
    });
    await producer.disconnect();

    const out = join(dir, 'kafka.jsonl');
    const { stderr } = await run(process.execPath, [
      CLI,
      'record',
      'kafka',
      '--brokers',
      brokers,
      '--topic',
      topic,
      '--out',
      out,
    ]);
    expect(stderr).toMatch(/recorded 3 records/);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('"key":{"id":9007199254740993}');
    const events = text
      .trim()
      .split('\n')
      .flatMap((l) => decodeDocument(l));
    expect(events.map((e) => [e.op, e.version])).toEqual([
      ['create', '100'],
      ['create', '101'],
    ]);
  });
});

describe('cdc-cache record dynamodb', () => {
  const table = `it_record_${process.pid}_${Date.now()}`;
  const local = () => ({
    endpoint: serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let db: DynamoDBClient;
  beforeAll(() => {
    requireServices('dynamodb');
    db = new DynamoDBClient(local());
  });
  afterAll(async () => {
    await db?.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    db?.destroy();
  });

  it('captures a stream by table name; decode reads the records back with exact numbers', async () => {
    await db.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      }),
    );
    await db.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, n: { N: '12345678901234567890' } } }),
    );
    await db.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, n: { N: '2' } } }));
    const out = join(dir, 'ddb.jsonl');
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
    await run(
      process.execPath,
      [
        CLI,
        'record',
        'dynamodb',
        '--table',
        table,
        '--endpoint',
        serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
        '--max',
        '2',
        '--out',
        out,
      ],
      { env },
    );
    const events = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .flatMap((l) => decodeDocument(l, { table }));
    expect(events.map((e) => e.op)).toEqual(['create', 'update']);
    expect(JSON.stringify(events[0]!.after)).toBe('{"pk":"a","n":12345678901234567890}');
  });
});
