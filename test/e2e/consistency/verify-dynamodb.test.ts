/**
 * `cdc-cache verify` against DynamoDB Local as the source of truth (GetItem, ConsistentRead), on real
 * stream records: items are written, the stream is captured with `cdc-cache record dynamodb`,
 * replayed into Valkey with `cdc-cache replay`, and verified: 0 stale keys (exit 0). Then two stale
 * values are planted (an old image under a live item's key, a deleted item's value brought back) and
 * verify names exactly those keys (exit 1). Numbers beyond 2^53 and string sets go through both
 * decoders (stream image and GetItem item) and must compare byte for byte. Last, `verify
 * --dynamodb-stream` follows the table's live stream and reports a key the pipeline did not follow.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { CLI, runCli } from '../../support/cli.ts';
import { createStreamTable } from '../../support/dynamodb.ts';

const table = `cons_verify_${process.pid}_${Date.now()}`;
const prefix = `vddb${Date.now()}:`;
const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-verify-ddb-'));
const log = join(dir, 'changes.jsonl');
const rules = join(dir, 'rules.json');
let ddb: DynamoDBClient;
let valkey: Valkey;

beforeAll(async () => {
  requireServices('dynamodb', 'valkey');
  // DynamoDB Local takes any credentials; the CLI children read them from the environment.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_REGION ??= 'us-east-1';
  ddb = new DynamoDBClient({
    endpoint: serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  valkey = new Valkey(serviceEnv('CDC_CACHE_VALKEY_URL'));
  await createStreamTable(ddb, table, { name: 'Id', type: 'N' });
  for (const id of ['1', '2', '3']) {
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          Id: { N: id },
          name: { S: `item ${id}` },
          big: { N: '12345678901234567890' },
          tags: { SS: ['a', 'b'] },
        },
      }),
    );
  }
  await ddb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { Id: { N: '1' } },
      UpdateExpression: 'SET #n = :n',
      ExpressionAttributeNames: { '#n': 'name' },
      ExpressionAttributeValues: { ':n': { S: 'item 1 renamed' } },
    }),
  );
  await ddb.send(new DeleteItemCommand({ TableName: table, Key: { Id: { N: '3' } } }));
  writeFileSync(
    rules,
    JSON.stringify({
      keyPrefix: prefix,
      defaults: { ttl: 0 },
      rules: [
        {
          table,
          source: 'dynamodb',
          keys: ['item:{Id}', { template: 'itemi:{Id}', action: 'invalidate' }],
          refresh: { fields: ['Id', 'name', 'big', 'tags'] },
        },
      ],
    }),
  );
  const recorded = await runCli([
    'record',
    'dynamodb',
    '--table',
    table,
    '--endpoint',
    serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
    '--out',
    log,
  ]);
  expect(recorded.code, recorded.stderr).toBe(0);
  // Recorded GetRecords records carry no table name: --table names it (as for decode/replay).
  const replayed = await runCli([
    'replay',
    log,
    '--table',
    table,
    '--config',
    rules,
    '--target',
    serviceEnv('CDC_CACHE_VALKEY_URL'),
  ]);
  expect(replayed.code, replayed.stderr).toBe(0);
  expect(replayed.stdout).toContain('5 change events');
}, 120_000);

afterAll(() => {
  ddb?.destroy();
  valkey?.disconnect();
});

const verify = () =>
  runCli([
    'verify',
    log,
    '--table',
    table,
    '--config',
    rules,
    '--target',
    serviceEnv('CDC_CACHE_VALKEY_URL'),
    '--dynamodb-endpoint',
    serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
    '--expect',
    'Id,name,big,tags',
    '--json',
  ]);

describe('cdc-cache verify with DynamoDB Local as the source of truth', () => {
  it('finds the replayed cache consistent (exit 0)', async () => {
    const r = await verify();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ mode: 'full', staleKeys: 0, rows: 3 });
    expect(report.windows[0]).toMatchObject({ checked: 3, consistent: 3, inconsistent: 0, unverified: 0 });
    // The live item's refreshed value is the stream projection, exact digits included.
    expect(await valkey.get(`${prefix}item:1`)).toBe(
      '{"Id":1,"name":"item 1 renamed","big":12345678901234567890,"tags":["a","b"]}',
    );
  });

  it('names the stale keys: an old image under a live key, and a deleted item brought back (exit 1)', async () => {
    await valkey.set(
      `${prefix}itemi:1`,
      '{"Id":1,"name":"item 1","big":12345678901234567890,"tags":["a","b"]}',
    );
    await valkey.set(
      `${prefix}item:3`,
      '{"Id":3,"name":"item 3","big":12345678901234567890,"tags":["a","b"]}',
    );
    // A value the app may legitimately hold: the current item, under the invalidate key.
    await valkey.set(
      `${prefix}itemi:2`,
      '{"Id":2,"name":"item 2","big":12345678901234567890,"tags":["a","b"]}',
    );
    const r = await verify();
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as {
      staleKeys: number;
      reads: { truth: number };
      inconsistencies: { key: string; expected: string | null }[];
    };
    expect(report.staleKeys).toBe(2);
    expect(report.inconsistencies.map((i) => [i.key, i.expected]).sort()).toEqual([
      [`${prefix}item:3`, null],
      [`${prefix}itemi:1`, '{"Id":1,"name":"item 1 renamed","big":12345678901234567890,"tags":["a","b"]}'],
    ]);
    expect(report.reads.truth).toBeGreaterThan(0);
  });

  it('--dynamodb-stream follows the live stream and names a key left stale by a change (exit 1)', async () => {
    const args = [
      CLI,
      'verify',
      '--dynamodb-stream',
      table,
      '--dynamodb-endpoint',
      serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
      '--config',
      rules,
      '--target',
      serviceEnv('CDC_CACHE_VALKEY_URL'),
      '--sample',
      '1',
      '--windows',
      '500ms,2s',
      '--duration',
      '10s',
      '--json',
    ];
    const done = new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      });
    });
    await new Promise((r) => setTimeout(r, 4000)); // the verifier starts from the stream's newest records
    // Item 2 changes; the cache keeps the old refresh value (as if the pipeline were down).
    const before = await valkey.get(`${prefix}item:2`);
    expect(before).toBe('{"Id":2,"name":"item 2","big":12345678901234567890,"tags":["a","b"]}');
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { Id: { N: '2' } },
        UpdateExpression: 'SET #n = :n',
        ExpressionAttributeNames: { '#n': 'name' },
        ExpressionAttributeValues: { ':n': { S: 'item 2 renamed' } },
      }),
    );
    const r = await done;
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as {
      mode: string;
      changes: { seen: number };
      inconsistencies: { key: string; expected: string | null; actual: string }[];
    };
    expect(report.mode).toBe('windows');
    // Only the new change was followed (not the stream's history), and item:2 is stale.
    expect(report.changes.seen).toBe(1);
    expect(report.inconsistencies).toEqual([
      expect.objectContaining({
        key: `${prefix}item:2`,
        actual: before,
        expected: '{"Id":2,"name":"item 2 renamed","big":12345678901234567890,"tags":["a","b"]}',
      }),
    ]);
  }, 60_000);
});
