/**
 * The handlers through the local Invoke API (`lambda serve`) with `@aws-sdk/client-lambda`, as a
 * deployed event source mapping or `replay --target lambda:NAME` would call them: real fixture
 * events into the embedded engine and into a real Valkey (harness: infra/local, 127.0.0.1:16379),
 * partial batch responses, invocation types, function errors, log tails.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { type ServedFunctions, serveFunctions } from '../../../functions/local/serve.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import {
  ddbFixtureEvent,
  ddbInsert,
  failingFor,
  kafkaRecord,
  mskDebeziumEvent,
  mskEvent,
  RULES,
} from '../../support/lambda.ts';

const quiet = () => {};
// biome-ignore lint/suspicious/noExplicitAny: JSON payloads, checked field by field with toEqual/toMatchObject
type Payload = any;

async function invoke(
  client: LambdaClient,
  name: string,
  event: unknown,
  extra: Partial<ConstructorParameters<typeof InvokeCommand>[0]> = {},
): Promise<{ out: InvokeCommandOutput; payload: Payload }> {
  const out = await client.send(
    new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify(event)), ...extra }),
  );
  const text = out.Payload == null ? '' : Buffer.from(out.Payload).toString('utf8');
  return { out, payload: text === '' ? undefined : JSON.parse(text) };
}

function clientFor(served: ServedFunctions): LambdaClient {
  return new LambdaClient({
    endpoint: served.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

describe('lambda serve + @aws-sdk/client-lambda, engine target', () => {
  let served: ServedFunctions;
  let client: LambdaClient;
  let target: CacheTarget;
  const dir = mkdtempSync(join(tmpdir(), 'cdc-lambda-'));
  const dlq = join(dir, 'dead-letters.jsonl');

  beforeAll(async () => {
    served = await serveFunctions({
      port: 0,
      logSink: quiet,
      env: { CDC_CACHE_RULES: JSON.stringify(RULES), CDC_CACHE_TARGET: 'engine', CDC_CACHE_DEAD_LETTER: dlq },
    });
    client = clientFor(served);
    target = (await served.environment.get()).target;
  });
  afterAll(async () => {
    client?.destroy();
    await served?.close();
  });

  it('DynamoDB console sample event: applied, nothing reported', async () => {
    const { out, payload } = await invoke(client, 'dynamodb', ddbFixtureEvent());
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    expect(payload).toEqual({ batchItemFailures: [] });
    expect(await target.get('message:101')).toBeNull(); // INSERT, MODIFY, REMOVE
  });

  it('MSK Debezium event (by ARN): create/update/delete/tombstone/truncate applied', async () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:cdc-cache-kafka';
    const first = mskDebeziumEvent();
    const tp = 'PostgreSQL_server.public.customers-0';
    first.records[tp] = first.records[tp].slice(0, 2);
    expect((await invoke(client, arn, first)).payload).toEqual({ batchItemFailures: [] });
    expect(JSON.parse((await target.get('customer:1'))!)).toMatchObject({ first_name: 'Anne Marie' });
    expect((await invoke(client, arn, mskDebeziumEvent())).payload).toEqual({ batchItemFailures: [] });
    expect(await target.get('customer:1')).toBeNull();
  });

  it('a poison record in the middle: dead-lettered to the file, the batch acknowledged', async () => {
    const event = mskEvent([
      kafkaRecord('orders', 0, 1, 1),
      kafkaRecord('orders', 0, 2, { raw: 'Hello, this is a test.' }),
      kafkaRecord('orders', 0, 3, 3),
    ]);
    expect((await invoke(client, 'kafka', event)).payload).toEqual({ batchItemFailures: [] });
    const letters = readFileSync(dlq, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(letters.at(-1)).toMatchObject({
      position: 'orders/0@2',
      code: 'E_BAD_JSON',
      group: 'orders-0',
      functionName: 'kafka',
    });
    expect(await target.get('order:3')).toBe('{"id":3,"total":30}');
  });

  it('Event invocation: 202, applied in the background', async () => {
    const { out } = await invoke(
      client,
      'dynamodb',
      { Records: [ddbInsert(77, '7701')] },
      { InvocationType: 'Event' },
    );
    expect(out.StatusCode).toBe(202);
    await served.idle();
    expect(await target.get('message:77')).toBe('{"Id":77,"Message":"New item!"}');
  });

  it('DryRun: 204, nothing runs', async () => {
    const { out } = await invoke(
      client,
      'dynamodb',
      { Records: [ddbInsert(78, '7801')] },
      { InvocationType: 'DryRun' },
    );
    expect(out.StatusCode).toBe(204);
    expect(await target.get('message:78')).toBeNull();
  });

  it('a bad event is a function error (X-Amz-Function-Error: Unhandled)', async () => {
    const { out, payload } = await invoke(client, 'dynamodb', { hello: 'world' });
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBe('Unhandled');
    expect(payload).toMatchObject({
      errorType: 'BatchError',
      errorMessage: expect.stringMatching(/Records/),
    });
  });

  it('LogType Tail returns the invocation log lines with its request id', async () => {
    const { out } = await invoke(
      client,
      'dynamodb',
      { Records: [ddbInsert(79, '7901')] },
      { LogType: 'Tail' },
    );
    const lines = Buffer.from(out.LogResult!, 'base64')
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const done = lines.find((l) => l.message === 'batch done');
    expect(done).toMatchObject({ function_name: 'dynamodb', records: 1 });
    expect(lines.find((l) => l._aws && l.cdc_cache_records_total !== undefined)).toMatchObject({
      FunctionName: 'dynamodb',
      source: 'dynamodb',
      cdc_cache_records_total: 1,
      requestId: done.function_request_id,
    });
  });

  it('an unknown function is ResourceNotFoundException', async () => {
    await expect(invoke(client, 'nope', {})).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('lambda serve: partial batch responses through the Invoke API', () => {
  let served: ServedFunctions;
  let client: LambdaClient;
  beforeAll(async () => {
    served = await serveFunctions({
      port: 0,
      logSink: quiet,
      target: failingFor(new Set(['message:12', 'order:41'])),
      env: {
        CDC_CACHE_RULES: JSON.stringify(RULES),
        CDC_CACHE_RETRY_ATTEMPTS: '2',
        CDC_CACHE_RETRY_BASE_MS: '1',
      },
    });
    client = clientFor(served);
  });
  afterAll(async () => {
    client?.destroy();
    await served?.close();
  });

  it('DynamoDB, two streams in one batch, a key failing in one: that record and the rest of its stream', async () => {
    const a = 'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/A';
    const b = 'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/B';
    const event = {
      Records: [
        ddbInsert(11, '11', a),
        ddbInsert(12, '12', a),
        ddbInsert(21, '21', b),
        ddbInsert(13, '13', a),
        ddbInsert(22, '22', b),
      ],
    };
    const { payload } = await invoke(client, 'dynamodb', event);
    expect(payload).toEqual({ batchItemFailures: [{ itemIdentifier: '12' }, { itemIdentifier: '13' }] });
  });

  it('Kafka, three partitions, a poison record and a failing key: each partition answered on its own', async () => {
    const event = mskEvent([
      kafkaRecord('orders', 0, 5, 1),
      kafkaRecord('orders', 0, 6, { raw: '{"op":"c","after":' }),
      kafkaRecord('orders', 0, 7, 2),
      kafkaRecord('orders', 1, 40, 40),
      kafkaRecord('orders', 1, 41, 41),
      kafkaRecord('orders', 1, 42, 42),
      kafkaRecord('orders', 2, 0, 50),
    ]);
    const { payload } = await invoke(client, 'cdc-cache-kafka', event);
    expect(payload).toEqual({
      batchItemFailures: [
        { itemIdentifier: { partition: 'orders-1', offset: 41 } },
        { itemIdentifier: { partition: 'orders-1', offset: 42 } },
      ],
    });
  });
});

describe('lambda serve into Valkey (harness standalone instance)', () => {
  const prefix = `it-lambda-${process.pid}-${Date.now()}:`;
  let served: ServedFunctions;
  let client: LambdaClient;
  beforeAll(async () => {
    requireServices('valkey');
    served = await serveFunctions({
      port: 0,
      logSink: quiet,
      env: {
        CDC_CACHE_RULES: JSON.stringify({ ...RULES, keyPrefix: prefix }),
        CDC_CACHE_TARGET: serviceEnv('CDC_CACHE_VALKEY_URL'),
      },
    });
    client = clientFor(served);
  });
  afterAll(async () => {
    client?.destroy();
    await served?.close();
  });

  it('DynamoDB and MSK fixture events land in Valkey as plain values', async () => {
    const target = (await served.environment.get()).target;
    expect(target.kind).toMatch(/^valkey/);
    const ddb = ddbFixtureEvent();
    ddb.Records.pop();
    expect((await invoke(client, 'dynamodb', ddb)).payload).toEqual({ batchItemFailures: [] });
    expect(await target.get(`${prefix}message:101`)).toBe('{"Id":101,"Message":"This item has changed"}');
    const kafka = mskDebeziumEvent();
    const tp = 'PostgreSQL_server.public.customers-0';
    kafka.records[tp] = kafka.records[tp].slice(0, 2);
    expect((await invoke(client, 'kafka', kafka)).payload).toEqual({ batchItemFailures: [] });
    expect(JSON.parse((await target.get(`${prefix}customer:1`))!)).toMatchObject({
      id: 1,
      first_name: 'Anne Marie',
    });
    // A replay of the same batch is fenced (idempotent), still acknowledged.
    expect((await invoke(client, 'kafka', kafka)).payload).toEqual({ batchItemFailures: [] });
  });
});

describe('lambda serve into Valkey cluster and TLS + ACL (harness instances)', () => {
  const prefix = `it-lambda-${process.pid}-${Date.now()}-x:`;
  const rules = JSON.stringify({ ...RULES, keyPrefix: prefix });

  async function roundTrip(env: Record<string, string>): Promise<string> {
    const served = await serveFunctions({ port: 0, logSink: quiet, env: { CDC_CACHE_RULES: rules, ...env } });
    const client = clientFor(served);
    try {
      const event = ddbFixtureEvent();
      event.Records.pop();
      expect((await invoke(client, 'dynamodb', event)).payload).toEqual({ batchItemFailures: [] });
      const target = (await served.environment.get()).target;
      return `${target.kind} ${await target.get(`${prefix}message:101`)}`;
    } finally {
      client.destroy();
      await served.close();
    }
  }

  it('a 3-master cluster from CDC_CACHE_TARGET with several hosts', async () => {
    requireServices('valkey-cluster');
    const nodes = serviceEnv('CDC_CACHE_VALKEY_CLUSTER_NODES');
    expect(await roundTrip({ CDC_CACHE_TARGET: `valkey://${nodes}` })).toBe(
      'valkey-cluster {"Id":101,"Message":"This item has changed"}',
    );
  });

  it('TLS with a private CA and an ACL user from CDC_CACHE_TARGET_USERNAME/PASSWORD and CDC_CACHE_TLS_CA_FILE', async () => {
    requireServices('valkey-tls');
    const host = new URL(serviceEnv('CDC_CACHE_VALKEY_TLS_URL').replace(/^valkeys:/, 'http:')).host;
    expect(
      await roundTrip({
        CDC_CACHE_TARGET: `valkeys://${host}`,
        CDC_CACHE_TARGET_USERNAME: serviceEnv('CDC_CACHE_VALKEY_TLS_USER'),
        CDC_CACHE_TARGET_PASSWORD: serviceEnv('CDC_CACHE_VALKEY_TLS_PASSWORD'),
        CDC_CACHE_TLS_CA_FILE: serviceEnv('CDC_CACHE_VALKEY_TLS_CA'),
      }),
    ).toBe('valkey {"Id":101,"Message":"This item has changed"}');
  });
});
