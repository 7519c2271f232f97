/**
 * E2E: DynamoDB Local writes → two `cdc-cache consume dynamodb` worker processes sharing the stream's
 * shards through leases kept in the cache target (lock keys `__cdc:lease:{ARN:shard}` with a
 * server-side TTL, checkpoints `__cdc:ckpt:{ARN:shard}`) → the engine served over RESP, and Valkey;
 * and through the DynamoDB lease table (`--lease-store dynamodb`: one item per shard, conditional
 * writes, checkpoint in the item), with the engine over RESP as the cache.
 * The worker holding the shard lease is SIGKILLed mid-stream; the other takes the shard over when
 * the lease expires, resumes from the checkpoint, and the cache ends equal to the table (refresh
 * rule) with nothing lost.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/server/server.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { waitFor } from '../../support/consumers.ts';
import { createStreamTable } from '../../support/dynamodb.ts';
import { startWorker, type Worker } from '../../support/workers.ts';

const ITEMS = Number(process.env.CDC_CACHE_E2E_DDB_ITEMS ?? 600);
let server: EngineServer;
let valkey: Valkey;
let ddb: DynamoDBClient;
const workers: Worker[] = [];

beforeAll(async () => {
  requireServices('dynamodb', 'valkey');
  server = await startEngineServer({ port: 0 });
  valkey = new Valkey(serviceEnv('CDC_CACHE_VALKEY_URL').replace(/^valkey:/, 'redis:'));
  ddb = new DynamoDBClient({
    endpoint: serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await server?.close();
  valkey?.disconnect();
  ddb?.destroy();
});

/** A cache target the workers write to, and where their leases live, seen from the test. */
interface Backend {
  name: string;
  spec: () => string;
  get(key: string): Promise<string | null>;
  /** The `--lease-store …` arguments. */
  leaseArgs: string[];
  /** The owner of the live lease on `table`'s unfinished shard (finished shards release theirs). */
  leaseOwner(table: string): Promise<string | undefined>;
  /** True once a checkpoint of `table`'s stream is stored. */
  checkpointed(table: string): Promise<boolean>;
}

/** Leases as keys in a cache target (`keys` lists the lease / checkpoint keys of `table`). */
function targetLeases(
  get: (key: string) => Promise<string | null>,
  keys: (kind: 'lease' | 'ckpt', table: string) => Promise<string[]>,
): Pick<Backend, 'leaseArgs' | 'leaseOwner' | 'checkpointed'> {
  return {
    leaseArgs: ['--lease-store', 'target'],
    async leaseOwner(table) {
      for (const k of await keys('lease', table)) {
        const owner = await get(k);
        if (owner !== null) return owner;
      }
      return undefined;
    },
    checkpointed: async (table) => (await keys('ckpt', table)).length > 0,
  };
}

const LEASE_TABLE = `e2e_leases_${Date.now()}_${process.pid}`;

/** The lease table's shard items of `table`'s stream. */
async function leaseItems(table: string) {
  const arn = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table?.LatestStreamArn;
  if (arn === undefined) return [];
  const r = await ddb
    .send(
      new QueryCommand({
        TableName: LEASE_TABLE,
        KeyConditionExpression: 'streamArn = :s',
        ExpressionAttributeValues: { ':s': { S: arn } },
        ConsistentRead: true,
      }),
    )
    .catch(() => ({ Items: [] }));
  return (r.Items ?? []).filter((i) => !i.leaseKey?.S?.startsWith('worker#'));
}

const BACKENDS: Backend[] = [
  {
    name: 'engine over RESP',
    spec: () => `engine://127.0.0.1:${server.port}`,
    get: async (key) => server.engine.get(key),
    ...targetLeases(
      async (key) => server.engine.get(key),
      async (kind, table) =>
        server.engine.keys(`__cdc:${kind}:*`).filter((k) => k.includes(`table/${table}/stream/`)),
    ),
  },
  {
    name: 'Valkey',
    spec: () => serviceEnv('CDC_CACHE_VALKEY_URL'),
    get: (key) => valkey.get(key),
    ...targetLeases(
      (key) => valkey.get(key),
      (kind, table) => valkey.keys(`__cdc:${kind}:{*table/${table}/stream/*`),
    ),
  },
  {
    name: 'a DynamoDB lease table',
    spec: () => `engine://127.0.0.1:${server.port}`,
    get: async (key) => server.engine.get(key),
    leaseArgs: ['--lease-store', 'dynamodb', '--lease-table', LEASE_TABLE],
    async leaseOwner(table) {
      return (await leaseItems(table)).find((i) => i.finished?.BOOL !== true && i.leaseOwner?.S)?.leaseOwner
        ?.S;
    },
    checkpointed: async (table) => (await leaseItems(table)).some((i) => i.checkpoint?.S !== undefined),
  },
];

for (const backend of BACKENDS) {
  describe(`consume dynamodb: two workers, one killed (leases in ${backend.name})`, () => {
    it('the survivor takes the shard over and the cache equals the table', async () => {
      await runScenario(backend);
    });
  });
}

async function runScenario(backend: Backend): Promise<void> {
  const table = `e2e_msgs_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await createStreamTable(ddb, table);
  const dir = mkdtempSync(join(tmpdir(), 'cdc-cache-ddb-e2e-'));
  const rules = join(dir, 'rules.json');
  writeFileSync(
    rules,
    JSON.stringify({
      defaults: { ttl: 0 },
      rules: [
        { table, source: 'dynamodb', keys: [`msg:${table}:{pk}`], refresh: { fields: ['pk', 'n', 'text'] } },
      ],
    }),
  );
  const deadLetters = join(dir, 'dead-letters.jsonl');
  const args = (id: string) => [
    'dynamodb',
    '--config',
    rules,
    '--table',
    table,
    '--endpoint',
    serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
    '--target',
    backend.spec(),
    ...backend.leaseArgs,
    '--worker-id',
    id,
    '--lease-ttl-ms',
    '3000',
    '--dead-letter-file',
    deadLetters,
    '--http-port',
    '0',
    '--no-progress',
  ];
  const a = startWorker(args('worker-a'), { AWS_REGION: 'us-east-1' });
  const b = startWorker(args('worker-b'), { AWS_REGION: 'us-east-1' });
  workers.push(a, b);

  const expected = new Map<string, { pk: string; n: number; text: string } | null>();
  const put = async (from: number, to: number) => {
    for (let i = from; i < to; i += 25) {
      const items = [];
      for (let j = i; j < Math.min(to, i + 25); j++) {
        const pk = `p${j}`;
        expected.set(pk, { pk, n: j, text: `v1-${j}` });
        items.push({
          PutRequest: { Item: { pk: { S: pk }, n: { N: String(j) }, text: { S: `v1-${j}` } } },
        });
      }
      await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
    }
  };
  const mutate = async (from: number, to: number) => {
    for (let j = from; j < to; j++) {
      const pk = `p${j}`;
      if (j % 4 === 1) {
        await ddb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { pk: { S: pk } },
            UpdateExpression: 'SET #t = :t',
            ExpressionAttributeNames: { '#t': 'text' },
            ExpressionAttributeValues: { ':t': { S: `v2-${j}` } },
          }),
        );
        expected.set(pk, { pk, n: j, text: `v2-${j}` });
      } else if (j % 4 === 2) {
        await ddb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: pk } } }));
        expected.set(pk, null);
      }
    }
  };
  const half = Math.floor(ITEMS / 2);
  await put(0, half);
  await waitFor(
    'a worker leasing the shard',
    async () => (await backend.leaseOwner(table)) !== undefined,
    60_000,
  );
  await mutate(0, half);
  // Kill whoever reads the shard, mid-stream, once it has checkpointed (so the takeover must resume).
  await waitFor('a checkpoint', () => backend.checkpointed(table), 60_000);
  const owner = await backend.leaseOwner(table);
  const victim = owner === 'worker-a' ? a : b;
  const survivor = victim === a ? b : a;
  victim.kill('SIGKILL');
  await put(half, ITEMS);
  await mutate(half, ITEMS);

  const matches = async () => {
    for (const [pk, row] of expected) {
      const v = await backend.get(`msg:${table}:${pk}`);
      if (row === null ? v !== null : v === null || JSON.stringify(JSON.parse(v)) !== JSON.stringify(row))
        return false;
    }
    return true;
  };
  await waitFor('the cache equal to the table', matches, 120_000, 500);
  await waitFor(
    'the survivor owning the shard',
    async () => (await backend.leaseOwner(table)) === (survivor === a ? 'worker-a' : 'worker-b'),
    30_000,
  );
  expect(survivor.logs.some((l) => l.message === 'shard leased')).toBe(true);
  // It resumed after the victim's checkpoint rather than re-reading the shard from its start.
  expect(survivor.logs.some((l) => l.message === 'reading shard' && l.from === 'AFTER_SEQUENCE_NUMBER')).toBe(
    true,
  );
  // The checkpoints are in the lease store.
  expect(await backend.checkpointed(table)).toBe(true);
  expect(() => readFileSync(deadLetters, 'utf8')).toThrow(); // no dead letters: the file was never written
  survivor.kill('SIGTERM');
  expect(await survivor.exited).toBe(0);
  // A clean stop hands the lease over at once: released after the last checkpoint, not left to expire.
  expect(await backend.leaseOwner(table)).toBeUndefined();
}
