/**
 * `cdc-cache consume dynamodb` configured only through the environment names the Lambda handlers
 * use: the rules inline in CDC_CACHE_RULES, the TLS + ACL Valkey in CDC_CACHE_TARGET without
 * credentials in the URL, the ACL user and password in CDC_CACHE_TARGET_USERNAME/PASSWORD, the
 * private CA in CDC_CACHE_TLS_CA_FILE. DynamoDB Local writes reach that Valkey, and the shard's lease
 * and checkpoint are kept in it (CDC_CACHE_DYNAMODB_LEASE_STORE=target). Without
 * the password the consumer stops at once with the server's refusal.
 */
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { waitFor } from '../../support/consumers.ts';
import { createStreamTable } from '../../support/dynamodb.ts';
import { startWorker, type Worker } from '../../support/workers.ts';

let ddb: DynamoDBClient;
let valkey: ValkeyTarget;
const workers: Worker[] = [];

beforeAll(async () => {
  requireServices('dynamodb', 'valkey-tls');
  ddb = new DynamoDBClient({
    endpoint: serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  valkey = await createValkeyTarget({
    url: `${serviceEnv('CDC_CACHE_VALKEY_TLS_URL')}?ca=${encodeURIComponent(serviceEnv('CDC_CACHE_VALKEY_TLS_CA'))}`,
  });
});

afterAll(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
  await valkey?.close();
  ddb?.destroy();
});

/** The TLS server's URL with its user:password removed (they come from the environment). */
const bareTlsUrl = () => serviceEnv('CDC_CACHE_VALKEY_TLS_URL').replace(/\/\/[^@/]*@/, '//');

describe('consume dynamodb with the shared environment names', () => {
  it('reads CDC_CACHE_RULES inline and target AUTH/TLS from CDC_CACHE_TARGET_USERNAME/PASSWORD/TLS_CA_FILE', async () => {
    const table = `it_env_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    await createStreamTable(ddb, table);
    const items = [0, 1, 2, 3, 4].map((j) => ({
      PutRequest: { Item: { pk: { S: `p${j}` }, n: { N: String(j) } } },
    }));
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));

    const env = {
      AWS_REGION: 'us-east-1',
      CDC_CACHE_RULES: JSON.stringify({
        defaults: { ttl: 0 },
        rules: [{ table, source: 'dynamodb', keys: [`env:${table}:{pk}`], refresh: { fields: ['pk', 'n'] } }],
      }),
      CDC_CACHE_TARGET: bareTlsUrl(),
      CDC_CACHE_TARGET_USERNAME: serviceEnv('CDC_CACHE_VALKEY_TLS_USER'),
      CDC_CACHE_TARGET_PASSWORD: serviceEnv('CDC_CACHE_VALKEY_TLS_PASSWORD'),
      CDC_CACHE_TLS_CA_FILE: serviceEnv('CDC_CACHE_VALKEY_TLS_CA'),
      CDC_CACHE_DYNAMODB_TABLE: table,
      CDC_CACHE_DYNAMODB_ENDPOINT: serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
      CDC_CACHE_DYNAMODB_WORKER_ID: 'env-worker',
      // The default is a DynamoDB lease table; this test keeps the leases in the TLS Valkey.
      CDC_CACHE_DYNAMODB_LEASE_STORE: 'target',
      CDC_CACHE_HTTP_PORT: '0',
    };
    const w = startWorker(['dynamodb', '--no-progress'], env);
    workers.push(w);
    await waitFor(
      'the items in the TLS Valkey',
      async () => {
        for (let j = 0; j < 5; j++) if ((await valkey.get(`env:${table}:p${j}`)) === null) return false;
        return true;
      },
      60_000,
    );
    expect(JSON.parse((await valkey.get(`env:${table}:p3`))!)).toEqual({ pk: 'p3', n: 3 });
    expect(w.logs.find((l) => l.message === 'shard leases and checkpoints')).toMatchObject({
      leaseStore: 'target',
      target: 'valkey',
    });
    // The lease (held by env-worker) and the checkpoint are keys of that Valkey.
    const leases = await valkey.client.keys(`__cdc:lease:{*table/${table}/stream/*`);
    expect(leases).toHaveLength(1);
    expect(await valkey.client.get(leases[0]!)).toBe('env-worker');
    await waitFor('a checkpoint', async () => {
      const [ckpt] = await valkey.client.keys(`__cdc:ckpt:{*table/${table}/stream/*`);
      return ckpt !== undefined && JSON.parse((await valkey.client.get(ckpt))!).sequenceNumber !== undefined;
    });
    w.kill('SIGTERM');
    expect(await w.exited).toBe(0);

    // Without the password the server refuses the connection, and the consumer says so and exits.
    const { CDC_CACHE_TARGET_PASSWORD: _, ...noPassword } = env;
    const refused = startWorker(['dynamodb', '--no-progress'], {
      ...noPassword,
      CDC_CACHE_TARGET_PASSWORD: '',
    });
    workers.push(refused);
    expect(await refused.exited).not.toBe(0);
    expect(JSON.stringify(refused.logs)).toMatch(/NOAUTH|WRONGPASS|auth/i);
  });
});
