/**
 * Redrive from SQS against a real SQS-compatible server (ElasticMQ, started by the harness), into
 * real Valkey, with the CLI as users run it:
 *
 * - the Lambda handlers' poison queue: the real DynamoDB handler sends its dead letters there
 *   (its SQS sink, a bad rule); after the fix redrive applies them, a newer change already in the
 *   cache is fenced, and only what the target confirmed is deleted;
 * - a Lambda on-failure destination: invocation records in the shape AWS documents
 *   (test/fixtures/dead-letters) pointing at a real DynamoDB Local stream; redrive reads the range
 *   again with GetShardIterator AT_SEQUENCE_NUMBER, and says so when the records are gone;
 * - a target outage: retried, then stopped, and every message stays in the queue.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget } from '../../../bin/targets.ts';
import { createAwsStreamsClient } from '../../../consumers/dynamodb/aws-streams-client.ts';
import { describeAllShards } from '../../../consumers/dynamodb/streams-port.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { createDynamoDbHandler } from '../../../functions/dynamodb-handler.ts';
import { createEnvironment } from '../../../functions/runtime/environment.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { runCli } from '../../support/cli.ts';
import { createStreamTable } from '../../support/dynamodb.ts';
import { fixture } from '../../support/fixtures.ts';
import { ddbInsert, lambdaContext, RULES } from '../../support/lambda.ts';

const run = randomUUID().slice(0, 8);
const prefix = `dlq-${run}:`;
const ARN =
  'arn:aws:dynamodb:us-east-1:123456789012:table/ExampleTableWithStream/stream/2015-06-27T00:48:05.899';
let sqs: SQSClient;
let valkey: CacheTarget;
let dir: string;

const badRules = {
  keyPrefix: prefix,
  rules: RULES.rules.map((r) =>
    r.table === 'ExampleTableWithStream' ? { ...r, keys: ['message:{Idd}'] } : r,
  ),
};

beforeAll(async () => {
  requireServices('sqs', 'valkey', 'dynamodb');
  sqs = new SQSClient({
    endpoint: serviceEnv('CDC_CACHE_SQS_ENDPOINT'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  valkey = await openTarget(serviceEnv('CDC_CACHE_VALKEY_URL'));
  dir = mkdtempSync(join(tmpdir(), 'cdc-sqs-redrive-'));
});

afterAll(async () => {
  sqs?.destroy();
  await valkey?.close();
});

async function queue(name: string): Promise<string> {
  const r = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${run}` }));
  return r.QueueUrl!;
}

function rulesFile(name: string, rules: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(rules));
  return file;
}

/** The real DynamoDB handler, with the bad rule, sends items 1..3 to `queueUrl` as dead letters. */
async function poison(queueUrl: string): Promise<void> {
  // The handler's sink takes AWS queue URLs; the SDK client points at ElasticMQ, which finds the queue by name.
  const awsUrl = `https://sqs.us-east-1.amazonaws.com/000000000000/${queueUrl.split('/').pop()}`;
  const environment = createEnvironment({
    config: compileConfig(badRules),
    target: createEngineTarget(),
    env: { CDC_CACHE_DEAD_LETTER: awsUrl, CDC_CACHE_METRICS_NAMESPACE: 'off', CDC_CACHE_LOG_LEVEL: 'error' },
    logSink: () => {},
    sqs,
  });
  const response = await createDynamoDbHandler(environment)(
    { Records: [ddbInsert(1, '100', ARN), ddbInsert(2, '200', ARN), ddbInsert(3, '300', ARN)] } as never,
    lambdaContext(),
  );
  expect(response.batchItemFailures).toEqual([]);
}

async function listed(queueUrl: string): Promise<string[]> {
  const r = await runCli(['dead-letters', 'list', queueUrl]);
  expect(r.code).toBe(0);
  return r.stdout.split('\n').filter(Boolean);
}

describe('dead-letters on SQS (ElasticMQ)', () => {
  it('poison queue: list leaves the messages; redrive applies, fences the newer key, deletes only those', async () => {
    const q = await queue('poison');
    await poison(q);
    const lines = await listed(q);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.split('\t')[1]).sort()).toEqual([
      'Records[0]@100',
      'Records[1]@200',
      'Records[2]@300',
    ]);
    expect(lines[0]).toMatch(/\[E_TEMPLATE_FIELD\] .*Idd/);
    expect(await listed(q)).toHaveLength(3); // listing hid nothing for long and deleted nothing

    // Item 2 changed later (sequence 900) and that change is in the cache already.
    await valkey.apply([
      {
        kind: 'refresh',
        key: `${prefix}message:2`,
        value: '{"Id":2,"Message":"newer"}',
        ttlMs: 0,
        version: '900',
      },
    ]);
    const fixed = rulesFile('fixed', { ...badRules, rules: RULES.rules });
    const r = await runCli([
      'dead-letters',
      'redrive',
      q,
      '--config',
      fixed,
      '--target',
      serviceEnv('CDC_CACHE_VALKEY_URL'),
    ]);
    expect(r.stderr).toMatch(
      /redrove 3 dead letters from .* 2 applied, 1 fenced, 0 failed again, 0 kept; 3 removed/,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fenced \S+ Records\[1\]@200: a newer version is already in the cache$/m);
    expect(JSON.parse((await valkey.get(`${prefix}message:1`))!)).toEqual({ Id: 1, Message: 'New item!' });
    expect(JSON.parse((await valkey.get(`${prefix}message:2`))!).Message).toBe('newer');
    expect(await listed(q)).toEqual([]);
  });

  it('target outage: retries, stops with exit 1, and every message stays in the queue, visible again', async () => {
    const q = await queue('outage');
    await poison(q);
    const fixed = rulesFile('fixed-outage', { ...badRules, rules: RULES.rules });
    const r = await runCli([
      'dead-letters',
      'redrive',
      q,
      '--config',
      fixed,
      '--target',
      'engine://127.0.0.1:1',
      '--retry-attempts',
      '2',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/target failed \(attempt 1\), retrying/);
    expect(r.stderr).toMatch(/0 applied, 0 fenced, 0 failed again, 3 kept; 0 removed/);
    expect(r.stderr).toMatch(/the target is unavailable, stopped/);
    expect(await listed(q)).toHaveLength(3);
  });

  it('on-failure destination: the range is read again from the stream; records gone from the stream are said to be', async () => {
    const endpoint = serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT');
    const ddb = new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const streams = createAwsStreamsClient({ region: 'us-east-1', endpoint });
    try {
      const table = `dlq_onfailure_${run}`;
      const streamArn = await createStreamTable(ddb, table);
      for (const pk of ['a', 'b', 'c'])
        await ddb.send(
          new PutItemCommand({
            TableName: table,
            Item: { pk: { S: pk }, v: { N: String(pk.charCodeAt(0)) } },
          }),
        );
      const [shard] = await describeAllShards(streams, streamArn);
      const page = await streams.getRecords(
        (await streams.getShardIterator(streamArn, shard!.shardId, { type: 'TRIM_HORIZON' }))!,
        100,
      );
      const seqs = page.records.map(
        (r) => (r as { dynamodb: { SequenceNumber: string } }).dynamodb.SequenceNumber,
      );
      expect(seqs).toHaveLength(3);

      // The documented invocation record, pointing at records 2..3 of the real stream.
      const template = fixture('dead-letters/lambda-dynamodb-on-failure.json') as Record<
        string,
        Record<string, unknown>
      >;
      const onFailure = structuredClone(template);
      Object.assign(onFailure.DDBStreamBatchInfo!, {
        streamArn,
        shardId: shard!.shardId,
        startSequenceNumber: seqs[1],
        endSequenceNumber: seqs[2],
        batchSize: 2,
      });
      const gone = structuredClone(template);
      Object.assign(gone.DDBStreamBatchInfo!, {
        streamArn,
        shardId: 'shardId-00000000000000000000-deadbeef',
        batchSize: 1,
      });
      const q = await queue('onfailure');
      await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: JSON.stringify(onFailure) }));
      await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: JSON.stringify(gone) }));

      const lines = await listed(q);
      expect(lines).toHaveLength(2);
      expect(lines.join('\n')).toContain(
        `${shard!.shardId}@${seqs[1]}..${seqs[2]}\t[RetryAttemptsExhausted] Lambda on-failure record`,
      );

      const rules = rulesFile('onfailure', {
        keyPrefix: prefix,
        rules: [{ table, keys: ['item:{pk}'], refresh: {} }],
      });
      const r = await runCli([
        'dead-letters',
        'redrive',
        q,
        '--config',
        rules,
        '--target',
        serviceEnv('CDC_CACHE_VALKEY_URL'),
        '--dynamodb-endpoint',
        endpoint,
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(
        new RegExp(`applied \\S+ ${shard!.shardId}@${seqs[1]}\\.\\.${seqs[2]} \\(2 ops\\)`),
      );
      expect(r.stdout).toMatch(
        /failed \S+ shardId-00000000000000000000-deadbeef@\S+: \[E_AGED_OUT\] .*no longer retains.*24 hours/,
      );
      expect(r.stderr).toMatch(/1 applied, 0 fenced, 1 failed again, 0 kept; 1 removed/);
      expect(await valkey.get(`${prefix}item:a`)).toBeNull(); // before the range: not redriven
      expect(JSON.parse((await valkey.get(`${prefix}item:b`))!)).toEqual({ pk: 'b', v: 98 });
      expect(JSON.parse((await valkey.get(`${prefix}item:c`))!)).toEqual({ pk: 'c', v: 99 });
      const left = await listed(q);
      expect(left).toHaveLength(1);
      expect(left[0]).toContain('shardId-00000000000000000000-deadbeef');
    } finally {
      ddb.destroy();
      streams.close();
    }
  });
});
