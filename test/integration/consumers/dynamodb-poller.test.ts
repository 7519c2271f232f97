/**
 * The DynamoDB Streams poller against DynamoDB Local: reads a table's stream into the engine target,
 * checkpoints after the ack (a restarted poller resumes after the last acknowledged record, with
 * nothing re-read), and recovers from an expired iterator (injected once on top of the real client,
 * since a real iterator takes 15 minutes to expire).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsStreamsClient } from '../../../consumers/dynamodb/aws-streams-client.ts';
import { createDynamoDbPoller } from '../../../consumers/dynamodb/dynamodb-poller.ts';
import { createFileLeaseStore } from '../../../consumers/dynamodb/file-lease-store.ts';
import type { StreamsPort } from '../../../consumers/dynamodb/streams-port.ts';
import { createConsumerMetrics, instrumentTarget } from '../../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../../consumers/runtime/logger.ts';
import type { DeadLetter } from '../../../core/pipeline/batch.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createEngineTarget, type EngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { waitFor } from '../../support/consumers.ts';
import { createStreamTable } from '../../support/dynamodb.ts';

let ddb: DynamoDBClient;
let streams: ReturnType<typeof createAwsStreamsClient>;

beforeAll(() => {
  requireServices('dynamodb');
  const endpoint = serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT');
  ddb = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  streams = createAwsStreamsClient({ region: 'us-east-1', endpoint });
});

afterAll(() => {
  ddb?.destroy();
  streams?.close();
});

async function createTable(): Promise<string> {
  const table = `it_poller_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await createStreamTable(ddb, table);
  return table;
}

async function put(table: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 25) {
    const items = [];
    for (let j = i; j < Math.min(to, i + 25); j++)
      items.push({ PutRequest: { Item: { pk: { S: `p${j}` }, n: { N: String(j) } } } });
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: items } }));
  }
}

async function poller(
  table: string,
  stateDir: string,
  target: EngineTarget,
  port: StreamsPort = streams,
  opts: { keys?: string[]; deadLetters?: DeadLetter[] } = {},
) {
  const metrics = createConsumerMetrics();
  const p = createDynamoDbPoller({
    streams: port,
    table,
    startPosition: 'TRIM_HORIZON',
    leases: await createFileLeaseStore({ dir: stateDir }),
    workerId: 'w1',
    leaseTtlMs: 5000,
    rescanMs: 500,
    config: compileConfig({
      defaults: { ttl: 0 },
      rules: [{ table, keys: opts.keys ?? ['item:{pk}'], refresh: {} }],
    }),
    target: instrumentTarget(target, metrics),
    deadLetter: async (d) => {
      if (opts.deadLetters === undefined) throw new Error(`unexpected dead letter: ${d.reason}`);
      opts.deadLetters.push(d);
    },
    metrics,
    logger: silentLogger,
    polling: { minIdleMs: 50, maxIdleMs: 200 },
  });
  await p.start();
  return { metrics, poller: p };
}

const has = (t: EngineTarget, from: number, to: number) => async () => {
  for (let i = from; i < to; i++) if ((await t.get(`item:p${i}`)) === null) return false;
  return true;
};

describe('consume dynamodb (DynamoDB Local)', () => {
  it('applies the stream, checkpoints after the ack, and a restart resumes after the checkpoint', async () => {
    const table = await createTable();
    const stateDir = mkdtempSync(join(tmpdir(), 'cdc-cache-poller-'));
    await put(table, 0, 40);
    const first = createEngineTarget();
    const a = await poller(table, stateDir, first);
    await waitFor('the first 40 items', has(first, 0, 40), 60_000);
    expect(JSON.parse((await first.get('item:p7'))!)).toEqual({ pk: 'p7', n: 7 });
    expect(await a.metrics.registry.render()).toMatch(
      /cdc_cache_dynamodb_iterator_age_seconds\{shard="[^"]+"\} /,
    );
    expect(a.metrics.checkpoints.get(['dynamodb'])).toBeGreaterThan(0);
    await a.poller.stop();

    // A fresh target proves the restart reads only what came after the checkpoint.
    await put(table, 40, 50);
    const second = createEngineTarget();
    const b = await poller(table, stateDir, second);
    await waitFor('the 10 new items', has(second, 40, 50), 60_000);
    expect(await second.get('item:p0')).toBeNull();
    expect(Object.keys(await second.dump())).toHaveLength(10);
    await b.poller.stop();
  });

  it('a record no target could apply (a key rendering into __cdc:) is a dead letter; the shard moves on (issue 14, item 8)', async () => {
    const table = await createTable();
    const stateDir = mkdtempSync(join(tmpdir(), 'cdc-cache-poller-'));
    await put(table, 0, 3);
    await ddb.send(
      new BatchWriteItemCommand({
        RequestItems: { [table]: [{ PutRequest: { Item: { pk: { S: '__cdc:v:{p1}' }, n: { N: '9' } } } }] },
      }),
    );
    await put(table, 3, 6);
    const dead: DeadLetter[] = [];
    const first = createEngineTarget();
    const a = await poller(table, stateDir, first, streams, { keys: ['{pk}'], deadLetters: dead });
    await waitFor('the items after the rejected one', async () => (await first.get('p5')) !== null, 60_000);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ code: 'E_RESERVED_KEY' });
    expect(dead[0]!.reason).toMatch(/key "__cdc:v:\{p1\}" starts with the reserved prefix __cdc:/);
    await a.poller.stop();

    // The checkpoint passed the dead letter: a restart reads only what came after.
    await put(table, 6, 7);
    const second = createEngineTarget();
    const b = await poller(table, stateDir, second, streams, { keys: ['{pk}'], deadLetters: dead });
    await waitFor('the new item', async () => (await second.get('p6')) !== null, 60_000);
    expect(Object.keys(await second.dump())).toEqual(['p6']);
    expect(dead).toHaveLength(1);
    await b.poller.stop();
  });

  it('re-creates an expired iterator from the checkpoint and loses nothing', async () => {
    const table = await createTable();
    const stateDir = mkdtempSync(join(tmpdir(), 'cdc-cache-poller-'));
    let expiries = 0;
    let calls = 0;
    const expiring: StreamsPort = {
      ...streams,
      async getRecords(iterator, limit) {
        calls++;
        if (calls === 3) {
          expiries++;
          throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
        }
        return streams.getRecords(iterator, limit);
      },
    };
    await put(table, 0, 20);
    const target = createEngineTarget();
    const p = await poller(table, stateDir, target, expiring);
    await waitFor('20 items', has(target, 0, 20), 60_000);
    await put(table, 20, 30);
    await waitFor('30 items', has(target, 0, 30), 60_000);
    expect(expiries).toBe(1);
    await p.poller.stop();
  });
});
