/**
 * `cdc-cache record` against the real services: what it captures from Kafka and from a DynamoDB
 * Local stream is a change log that `decode` reads back into the same changes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocument } from '../../../core/decode/document.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { createStreamTable } from '../../support/dynamodb.ts';

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
    // Issue 14, item 10: read-only — no warning, and no capture group with offsets left behind.
    expect(stderr).not.toMatch(/TimeoutNegativeWarning/);
    const groupAdmin = kafka.admin();
    await groupAdmin.connect();
    try {
      const { groups } = await groupAdmin.listGroups();
      for (const { groupId } of groups.filter((g) => g.groupId.startsWith('cdc-cache-capture-'))) {
        const [offsets] = await groupAdmin.fetchOffsets({ groupId, topics: [topic] });
        expect(offsets?.partitions.filter((p) => p.offset !== '-1')).toEqual([]);
      }
    } finally {
      await groupAdmin.disconnect();
    }
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
    await createStreamTable(db, table);
    await db.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, n: { N: '12345678901234567890' } } }),
    );
    await db.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, n: { N: '2' } } }));
    const out = join(dir, 'ddb.jsonl');
    // Issue 14, item 5: no AWS credentials in the environment; a local --endpoint needs none.
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      delete env[k];
    env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-such-credentials');
    env.AWS_CONFIG_FILE = join(dir, 'no-such-config');
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
      .flatMap((l) => decodeDocument(l));
    expect(events.map((e) => [e.table, e.op])).toEqual([
      [table, 'create'],
      [table, 'update'],
    ]);
    expect(JSON.stringify(events[0]!.after)).toBe('{"pk":"a","n":12345678901234567890}');
    // The lines carry the table (eventSourceARN): they replay without --table.
    const rules = join(dir, 'ddb-rules.json');
    writeFileSync(rules, JSON.stringify({ rules: [{ table, keys: ['item:{pk}'], refresh: {} }] }));
    const replay = await run(process.execPath, [CLI, 'replay', out, '--config', rules, '--dump']);
    expect(JSON.parse(replay.stdout)).toEqual({ 'item:a': '{"pk":"a","n":2}' });
    expect(replay.stderr).toMatch(/: 2 change events, .* 1 applied, 0 fenced, 0 failed; 0 dead letters/);
  });
});
