/**
 * Records captured from the harness (test/fixtures/captured: PostgreSQL → Debezium → Kafka, with and
 * without schemas; DynamoDB Local streams) sent through the handlers with `replay --target lambda`'s
 * code path and `@aws-sdk/client-lambda`, into the engine: the cache must equal a direct replay of
 * the same change logs, and every record must be acknowledged.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayChangeLogs } from '../../../core/pipeline/replay.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { lambdaClient } from '../../../functions/local/lambda-client.ts';
import { replayToLambda } from '../../../functions/local/replay-to-lambda.ts';
import { serveFunctions } from '../../../functions/local/serve.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { FIXTURES } from '../../support/fixtures.ts';

const RULES = {
  rules: [
    {
      table: 'public.customers',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'email', 'name', 'tier'] },
      // REPLICA IDENTITY FULL on the harness: declared, since schemaless old images cannot show it.
      images: 'both',
    },
    {
      table: 'public.orders',
      keys: ['order:{id}'],
      dependents: ['customer-orders:{customer_id}'],
      // public.orders is at REPLICA IDENTITY DEFAULT: updates and deletes carry no customer_id in
      // their old image, so the customer's order list is invalidated by prefix (issue 14).
      onPartialImage: { invalidatePrefix: 'customer-orders:' },
      refresh: {},
    },
    { table: 'public.documents', keys: ['doc:{id}'], refresh: { fields: ['id', 'title'] } },
    {
      table: 'orders',
      source: 'dynamodb',
      keys: ['ddb:{pk}:{sk}'],
      refresh: { fields: ['pk', 'sk', 'status', 'total'] },
    },
  ],
} as const;

const captured = (f: string) => join(FIXTURES, 'captured', f);

async function throughLambda(files: string[], fn: string, table?: string, target = 'engine', keyPrefix = '') {
  const served = await serveFunctions({
    port: 0,
    logSink: () => {},
    env: { CDC_CACHE_RULES: JSON.stringify({ ...RULES, keyPrefix }), CDC_CACHE_TARGET: target },
  });
  const client = lambdaClient({ endpoint: served.url });
  try {
    const summary = await replayToLambda(files, {
      functionName: fn,
      client,
      batchSize: 3,
      ...(table === undefined ? {} : { decode: { table } }),
    });
    const all = await (await served.environment.get()).target.dump();
    const state = Object.fromEntries(Object.entries(all).filter(([k]) => k.startsWith(keyPrefix)));
    return { summary, state };
  } finally {
    client.destroy();
    await served.close();
  }
}

async function direct(files: string[], table?: string, keyPrefix = '') {
  const target = createEngineTarget();
  await replayChangeLogs(files, {
    config: compileConfig({ ...RULES, keyPrefix }),
    target,
    ...(table === undefined ? {} : { decode: { table } }),
  });
  return target.dump();
}

describe('captured harness records through the Lambda handlers', () => {
  it.each(['debezium-postgres-schema.jsonl', 'debezium-postgres-plain.jsonl'])(
    'Debezium (%s) as MSK events: same cache as a direct replay',
    async (file) => {
      const { summary, state } = await throughLambda([captured(file)], 'kafka');
      expect(summary).toMatchObject({ records: 10, acknowledged: 10, failed: 0, functionErrors: 0 });
      expect(state).toEqual(await direct([captured(file)]));
      expect(Object.keys(state).length).toBeGreaterThan(0);
    },
  );

  it('DynamoDB Local stream records as DynamoDB Streams events: same cache as a direct replay', async () => {
    const file = captured('dynamodb-streams.jsonl');
    const { summary, state } = await throughLambda([file], 'dynamodb', 'orders');
    expect(summary).toMatchObject({ records: 5, acknowledged: 5, failed: 0, functionErrors: 0 });
    expect(state).toEqual(await direct([file], 'orders'));
  });

  it('both captures into the harness Valkey: same values as the engine gets', async () => {
    requireServices('valkey');
    const prefix = `it-lambda-cap-${process.pid}-${Date.now()}:`;
    const url = serviceEnv('CDC_CACHE_VALKEY_URL');
    const dbz = captured('debezium-postgres-schema.jsonl');
    const viaValkey = await throughLambda([dbz], 'kafka', undefined, url, prefix);
    expect(viaValkey.summary).toMatchObject({ records: 10, acknowledged: 10, failed: 0 });
    expect(viaValkey.state).toEqual(await direct([dbz], undefined, prefix));
    expect(Object.keys(viaValkey.state).length).toBeGreaterThan(0);
    const ddb = captured('dynamodb-streams.jsonl');
    const ddbValkey = await throughLambda([ddb], 'dynamodb', 'orders', url, `${prefix}ddb:`);
    expect(ddbValkey.summary).toMatchObject({ records: 5, acknowledged: 5, failed: 0 });
  });
});
