/**
 * Randomized consistency test on DynamoDB Local (the DynamoDB half of issue 9's test). Per run:
 * - writers: concurrent random PutItem / UpdateItem / DeleteItem on a few items of a table with a
 *   NEW_AND_OLD_IMAGES stream;
 * - apps: worker threads doing cache-aside `getOrLoad` (leases on or off) with a slow GetItem loader;
 * - the CDC pipeline: the project's DynamoDB Streams poller in a child process (file shard leases and
 *   checkpoints), SIGKILLed mid-run and restarted as another worker, which takes the shard over when
 *   the lease expires and replays from the checkpoint (duplicates);
 * - deterministic faults at the end: every item's oldest change is applied again late (as a replay of
 *   an old shard position would), and one slow load races an update and its invalidation.
 * The verifier follows the stream live (windows 100 ms … 5 s) and checks every item in full mode
 * against DynamoDB (GetItem, ConsistentRead) after the drain. With fencing and leases: 0 stale keys;
 * with the test-only switches off: stale keys. Cross-partition reordering is not injected here (a
 * DynamoDB stream is ordered per shard); the Kafka test covers it.
 */
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoDbRecordToJson } from '../../../consumers/record/capture.ts';
import { createCacheClient, textCodec } from '../../../core/client/index.ts';
import { leaseStoreFor } from '../../../core/client/store-for-target.ts';
import { decodeDocument } from '../../../core/decode/document.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import { planBatch } from '../../../core/plan/planner.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import {
  createVerifier,
  dynamodbTruth,
  formatDuration,
  formatReport,
  type VerifyReport,
  verifyFull,
} from '../../../core/verify/index.ts';
import { waitFor } from '../../integration/consumers/support.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { appendResults, prng, startChild, stopChild } from './harness.ts';
import { ITEM_FIELDS, itemProjection, itemRules } from './scenario.ts';

const DURATION_MS = Number(process.env.CDC_CACHE_CONSISTENCY_MS ?? 8000);
const ROWS = 5;
const WRITERS = 3;
const APPS = 3;
const WINDOWS_MS = [100, 500, 1000, 2000, 5000];
const CHILD = join(import.meta.dirname, 'ddb-cdc-child.ts');
const WORKER = join(import.meta.dirname, 'app-worker.ts');

interface DdbRun {
  name: string;
  full: VerifyReport;
  live: VerifyReport;
  writes: number;
  records: number;
  reads: number;
  fills: number;
  rejected: number;
  raceFill: string;
  raceKey: string;
}
const runs: DdbRun[] = [];
let endpoint: string;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(() => {
  requireServices('dynamodb', 'valkey');
  endpoint = serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT');
});

afterAll(() => {
  if (runs.length === 0) return;
  const lines = [
    `## ${new Date().toISOString()} — DynamoDB Local`,
    '',
    `Command: \`CDC_CACHE_KEEP_SERVICES=1 CDC_CACHE_CONSISTENCY_MS=${DURATION_MS} npx vitest run --project e2e test/e2e/consistency/consistency-dynamodb.test.ts\``,
    `Load average: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(
        ' ',
      )} (2 cores, shared). ${ROWS} items, ${WRITERS} writers, ${APPS} app threads, the DynamoDB Streams poller (1 SIGKILL + takeover), ${DURATION_MS} ms of writes per run.`,
    '',
    '| run | stale keys (full check) | items checked | writes (stream records) | app reads / fills / lease-rejected | race fill | live: changes followed | staleness p50 / p99 / max | stream lag p99 / check lateness p99 | last window (5 s) consistent |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const w = r.live.windows.at(-1)!;
    lines.push(
      `| ${r.name} | **${r.full.staleKeys}** | ${r.full.windows[0]!.checked} | ${r.writes} (${r.records}) | ${r.reads} / ${r.fills} / ${r.rejected} | ${r.raceFill} | ${r.live.changes.sampled} | ≤ ${formatDuration(r.live.staleness.p50Ms)} / ≤ ${formatDuration(r.live.staleness.p99Ms)} / ${formatDuration(r.live.staleness.maxMs)} | ${formatDuration(r.live.streamLag.p99Ms)} / ${formatDuration(r.live.lateness.p99Ms)} | ${(w.fraction * 100).toFixed(2)}% (${w.inconsistent} of ${w.checked}) |`,
    );
  }
  lines.push('');
  lines.push(
    'Staleness: as in the PostgreSQL table. DynamoDB Local truncates ApproximateCreationDateTime to the minute, hence the stream lag; windows count from when the verifier saw a change, so it does not skew them.',
  );
  appendResults(lines.join('\n'));
});

async function runDynamo(name: string, protectedRun: boolean): Promise<DdbRun> {
  const base = 1000 + Math.floor(Math.random() * 1_000_000) * 10;
  const ids = Array.from({ length: ROWS }, (_, i) => base + i);
  const table = `cons_ddb_${base}_${Date.now()}`;
  const prefix = `consddb${base}:`;
  const rules = itemRules(prefix, table);
  const config = compileConfig(rules, 'itemRules');
  const valkeyUrl = serviceEnv('CDC_CACHE_VALKEY_URL');
  const ddb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials });
  const streams = new DynamoDBStreamsClient({ endpoint, region: 'us-east-1', credentials });
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'Id', AttributeType: 'N' }],
      KeySchema: [{ AttributeName: 'Id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const streamArn = (await ddb.send(new DescribeTableCommand({ TableName: table }))).Table!.LatestStreamArn!;
  const reader = await createValkeyTarget({ url: valkeyUrl });
  const truth = dynamodbTruth(
    async (t, key) =>
      (await ddb.send(new GetItemCommand({ TableName: t, Key: key as never, ConsistentRead: true }))).Item as
        | Record<string, unknown>
        | undefined,
  );
  const expect = { fields: [...ITEM_FIELDS] };
  const live = createVerifier({
    config,
    target: reader,
    truth,
    expect,
    windowsMs: WINDOWS_MS,
    ratePerSec: 20_000,
  });
  const events: ChangeEvent[] = [];

  // The verifier's own stream reader (the poller reads the same stream independently).
  let reading = true;
  // Robust to transient errors (throttling under load, an expired iterator): a shard resumes after
  // the last sequence number it delivered.
  const streamReader = (async () => {
    const iterators = new Map<string, string | undefined>();
    const lastSeq = new Map<string, string>();
    const closed = new Set<string>();
    let lastScan = 0;
    const iteratorFor = async (shard: string) =>
      (
        await streams.send(
          new GetShardIteratorCommand({
            StreamArn: streamArn,
            ShardId: shard,
            ...(lastSeq.has(shard)
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: lastSeq.get(shard)! }
              : { ShardIteratorType: 'TRIM_HORIZON' }),
          }),
        )
      ).ShardIterator;
    while (reading) {
      try {
        if (Date.now() - lastScan > 1000) {
          lastScan = Date.now();
          const d = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
          for (const shard of d.StreamDescription?.Shards ?? []) {
            if (!iterators.has(shard.ShardId!))
              iterators.set(shard.ShardId!, await iteratorFor(shard.ShardId!));
          }
        }
        for (const [shard, iterator] of iterators) {
          if (closed.has(shard)) continue;
          const r = await streams.send(
            new GetRecordsCommand({ ShardIterator: iterator ?? (await iteratorFor(shard)) }),
          );
          iterators.set(shard, r.NextShardIterator);
          if (r.NextShardIterator === undefined) closed.add(shard);
          for (const rec of r.Records ?? []) {
            lastSeq.set(shard, rec.dynamodb!.SequenceNumber!);
            for (const e of decodeDocument(JSON.stringify(dynamoDbRecordToJson(rec)), {
              source: 'dynamodb',
              table,
            })) {
              events.push(e);
              live.observe(e);
            }
          }
        }
      } catch (error) {
        process.stderr.write(
          `[stream reader] ${(error as Error).name}: ${(error as Error).message} (resuming)\n`,
        );
        for (const shard of iterators.keys()) iterators.set(shard, undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  let verifying = true;
  const verifierLoop = (async () => {
    while (verifying) {
      await live.runDue();
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  const stateDir = mkdtempSync(join(tmpdir(), 'cdc-cache-ddb-consistency-'));
  const childEnv = (worker: string) => ({
    CONS_DDB_ENDPOINT: endpoint,
    CONS_TABLE: table,
    CONS_STATE_DIR: stateDir,
    CONS_WORKER: worker,
    CONS_VALKEY: valkeyUrl,
    CONS_RULES: JSON.stringify(rules),
    CONS_FENCING: protectedRun ? '1' : '0',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  let cdc = await startChild(CHILD, childEnv('w1'));

  const apps = Array.from({ length: APPS }, (_, n) => {
    const w = new Worker(WORKER, {
      workerData: {
        valkeyUrl,
        ddb: { endpoint, table },
        prefix,
        ids,
        durationMs: DURATION_MS,
        leases: protectedRun,
        seed: base + n,
      },
    });
    return new Promise<{ reads: number; fills: number; rejected: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  });

  let writes = 0;
  let records = 0;
  const until = Date.now() + DURATION_MS;
  const writers = Array.from({ length: WRITERS }, async (_, n) => {
    const rnd = prng(base * 31 + n);
    for (let i = 0; Date.now() < until; i++) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const k = rnd();
      const tag = `${n}-${i}`;
      if (k < 0.45) {
        await ddb.send(
          new PutItemCommand({
            TableName: table,
            Item: { Id: { N: String(id) }, name: { S: `p${tag}` }, n: { N: String(i) } },
          }),
        );
        records++;
      } else if (k < 0.85) {
        await ddb.send(
          new UpdateItemCommand({
            TableName: table,
            Key: { Id: { N: String(id) } },
            UpdateExpression: 'SET #name = :name, n = :n',
            ExpressionAttributeNames: { '#name': 'name' },
            ExpressionAttributeValues: { ':name': { S: `u${tag}` }, ':n': { N: String(i) } },
          }),
        );
        records++;
      } else {
        const r = await ddb.send(
          new DeleteItemCommand({
            TableName: table,
            Key: { Id: { N: String(id) } },
            ReturnValues: 'ALL_OLD',
          }),
        );
        if (r.Attributes !== undefined) records++;
      }
      writes++;
    }
  });
  const crash = (async () => {
    await new Promise((r) => setTimeout(r, DURATION_MS / 2));
    await stopChild(cdc, 'SIGKILL');
    cdc = await startChild(CHILD, childEnv('w2'));
  })();
  await Promise.all(writers);
  const appCounts = await Promise.all(apps);
  await crash;

  /** The poller checkpointed (so applied) the newest stream record the test has seen. */
  const checkpointed = async (): Promise<bigint> => {
    let max = -1n;
    for (const f of await readdir(stateDir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const j = JSON.parse(await readFile(join(stateDir, f), 'utf8')) as { sequenceNumber?: string };
        if (j.sequenceNumber !== undefined && BigInt(j.sequenceNumber) > max) max = BigInt(j.sequenceNumber);
      } catch {
        // a file being replaced: read it on the next poll
      }
    }
    return max;
  };
  const drained = async (what: string) => {
    // Caught up: every record counted, or the stream quiet for 5 s. The count is an upper bound:
    // DynamoDB Local can answer two racing DeleteItem calls on one item both with the old item
    // (ReturnValues ALL_OLD) while writing one REMOVE record, so a few deletes may be counted twice.
    let seen = -1;
    let quietSince = Date.now();
    await waitFor(
      `${what}: the stream reader caught up`,
      () => {
        if (events.length !== seen) {
          seen = events.length;
          quietSince = Date.now();
        }
        return events.length >= records || Date.now() - quietSince > 5000;
      },
      60_000,
      100,
    ).catch((error: Error) => {
      throw new Error(`${error.message} (seen ${events.length} of ${records})`);
    });
    if (events.length < records)
      process.stderr.write(
        `[${what}] stream quiet with ${events.length} of ${records} counted writes seen\n`,
      );
    const newest = events.reduce((m, e) => (BigInt(e.version) > m ? BigInt(e.version) : m), -1n);
    await waitFor(
      `${what}: the poller checkpointed the newest record`,
      async () => (await checkpointed()) >= newest,
      120_000,
      200,
    );
  };
  await drained('after the burst');

  // Fault 1: every item's oldest change applied again, late (a replay from an old shard position).
  const cdcTarget = await createValkeyTarget({ url: valkeyUrl, fencing: protectedRun });
  const oldest = new Map<string, ChangeEvent>();
  for (const e of events)
    if (e.op !== 'delete' && !oldest.has(String(e.key!.Id))) oldest.set(String(e.key!.Id), e);
  await cdcTarget.apply(planBatch(config, [...oldest.values()]).ops);
  await cdcTarget.close();

  // Fault 2: a slow load of `ca:` reads the item, an update is applied by the poller, then it fills.
  const raceId = ids[0]!;
  const raceKey = `${prefix}ca:${raceId}`;
  await ddb.send(
    new PutItemCommand({
      TableName: table,
      Item: { Id: { N: String(raceId) }, name: { S: 'race-before' }, n: { N: '0' } },
    }),
  );
  records++;
  await drained('before the racing fill');
  const appTarget = await createValkeyTarget({ url: valkeyUrl });
  let raceFill = 'none';
  const app = createCacheClient({
    store: leaseStoreFor(appTarget),
    leases: protectedRun,
    ttlMs: 0,
    codec: textCodec,
    onEvent: (e) => {
      if (e.type === 'fill') raceFill = 'filled';
      else if (e.type === 'lease-rejected') raceFill = `rejected (${e.outcome})`;
    },
  });
  await app.getOrLoad(
    raceKey,
    async () => {
      const { Item } = await ddb.send(
        new GetItemCommand({ TableName: table, Key: { Id: { N: String(raceId) } }, ConsistentRead: true }),
      );
      const old = itemProjection(Item as Record<string, { S?: string; N?: string }>);
      await ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { Id: { N: String(raceId) } },
          UpdateExpression: 'SET #name = :name',
          ExpressionAttributeNames: { '#name': 'name' },
          ExpressionAttributeValues: { ':name': { S: 'race-after' } },
        }),
      );
      records++;
      writes++;
      await drained('during the racing fill');
      return old;
    },
    { codec: textCodec },
  );
  await app.close();
  await appTarget.close();

  reading = false;
  await streamReader;
  verifying = false;
  await verifierLoop;
  await live.drain(Date.now() + WINDOWS_MS.at(-1)! + 1000);
  const full = await verifyFull(events, {
    config,
    target: reader,
    truth,
    expect,
    ratePerSec: 20_000,
    maxInconsistencies: 1000,
  });
  process.stdout.write(
    `\n[dynamodb: ${name}] live verifier:\n${formatReport(live.report())}\n[dynamodb: ${name}] full check after drain:\n${formatReport(full)}`,
  );
  await stopChild(cdc, 'SIGTERM');
  await reader.close();
  ddb.destroy();
  streams.destroy();
  const sum = (k: 'reads' | 'fills' | 'rejected') => appCounts.reduce((a, c) => a + c[k], 0);
  const run: DdbRun = {
    name,
    full,
    live: live.report(),
    writes,
    records,
    reads: sum('reads'),
    fills: sum('fills'),
    rejected: sum('rejected'),
    raceFill,
    raceKey,
  };
  runs.push(run);
  return run;
}

describe('randomized consistency on DynamoDB Local: writers, lease-guarded apps, the Streams poller with a crash', () => {
  it('with version fencing and leases the verifier finds 0 stale keys after the drain', async () => {
    const r = await runDynamo('fencing + leases', true);
    expect(r.full.windows[0]!.checked).toBeGreaterThan(0);
    expect(r.full.windows[0]!.unverified).toBe(0);
    expect(r.full.inconsistencies).toEqual([]);
    expect(r.full.staleKeys).toBe(0);
    expect(r.raceFill).toMatch(/^rejected/);
  }, 300_000);

  it('the same run with fencing and leases switched off leaves stale keys', async () => {
    const r = await runDynamo('no fencing, no leases', false);
    expect(r.raceFill).toBe('filled');
    expect(r.full.staleKeys).toBeGreaterThan(0);
    const keys = r.full.inconsistencies.map((i) => i.key);
    expect(keys).toContain(r.raceKey);
    expect(keys.some((k) => k.includes(':cr:'))).toBe(true);
  }, 300_000);
});
