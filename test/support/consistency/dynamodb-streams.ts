/**
 * The DynamoDB source of the consistency run (run.ts), on DynamoDB Local: writers make random
 * PutItem / UpdateItem / DeleteItem on a few items of a table with a NEW_AND_OLD_IMAGES stream; the
 * CDC child is the project's DynamoDB Streams poller (file shard leases and checkpoints), restarted
 * after its kill as another worker, which takes the shard over when the lease expires and replays
 * from the checkpoint (duplicates). The verifier follows the stream with a reader of its own; the
 * late oldest changes are applied as a replay of an old shard position would. Cross-partition
 * reordering is not injected here (a DynamoDB stream is ordered per shard); the Kafka source covers it.
 */
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteItemCommand,
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
import { dynamoDbRecordToJson } from '../../../consumers/record/capture.ts';
import { decodeDocument } from '../../../core/decode/document.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import { planBatch } from '../../../core/plan/planner.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { dynamodbTruth, formatDuration } from '../../../core/verify/index.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { waitFor } from '../consumers.ts';
import { createStreamTable, LOCAL_CREDENTIALS } from '../dynamodb.ts';
import { APPS, type ConsistencyRun, type ConsistencySource, DURATION_MS, ROWS, WRITERS } from './run.ts';
import { ITEM_FIELDS, itemProjection, itemRules } from './scenario.ts';

/** What the DynamoDB source counts beside the common run. */
export interface DynamoDbStats {
  writes: number;
  /** Stream records the writes made (an upper bound: see `drained`). */
  records: number;
}

/** A run of the DynamoDB source. */
export type DynamoDbRun = ConsistencyRun & DynamoDbStats;

/** The DynamoDB source with what it counted. */
export interface DynamoDbSource extends ConsistencySource {
  stats(): DynamoDbStats;
}

/** Checks the services; returns DynamoDB Local's endpoint. */
export function prepareDynamoDb(): string {
  requireServices('dynamodb', 'valkey');
  return serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT');
}

/** Sets up one run's table, stream reader, checkpoint directory and counters. */
export async function dynamoDbSource(endpoint: string, protectedRun: boolean): Promise<DynamoDbSource> {
  const base = 1000 + Math.floor(Math.random() * 1_000_000) * 10;
  const table = `cons_ddb_${base}_${Date.now()}`;
  const prefix = `consddb${base}:`;
  const rules = itemRules(prefix, table);
  const config = compileConfig(rules, 'itemRules');
  const valkeyUrl = serviceEnv('CDC_CACHE_VALKEY_URL');
  const ddb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const streams = new DynamoDBStreamsClient({
    endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const streamArn = await createStreamTable(ddb, table, { name: 'Id', type: 'N' });
  const truth = dynamodbTruth(
    async (t, key) =>
      (await ddb.send(new GetItemCommand({ TableName: t, Key: key as never, ConsistentRead: true }))).Item as
        | Record<string, unknown>
        | undefined,
  );
  const stats: DynamoDbStats = { writes: 0, records: 0 };
  const stateDir = mkdtempSync(join(tmpdir(), 'cdc-cache-ddb-consistency-'));
  let events: readonly ChangeEvent[] = [];
  let reading = true;
  let streamReader: Promise<void> = Promise.resolve();

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
  const update = (id: number, name: string, n?: number) =>
    ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: { Id: { N: String(id) } },
        UpdateExpression: n === undefined ? 'SET #name = :name' : 'SET #name = :name, n = :n',
        ExpressionAttributeNames: { '#name': 'name' },
        ExpressionAttributeValues:
          n === undefined ? { ':name': { S: name } } : { ':name': { S: name }, ':n': { N: String(n) } },
      }),
    );

  return {
    label: 'dynamodb: ',
    base,
    prefix,
    config,
    fields: ITEM_FIELDS,
    truth,
    appData: { ddb: { endpoint, table } },

    // The verifier's own stream reader (the poller reads the same stream independently). Robust to
    // transient errors (throttling under load, an expired iterator): a shard resumes after the last
    // sequence number it delivered.
    async follow(sink) {
      events = sink.events;
      streamReader = (async () => {
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
                }))
                  sink.observe(e);
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
    },

    childEnv: (start) => ({
      CONS_SOURCE: 'dynamodb',
      CONS_DDB_ENDPOINT: endpoint,
      CONS_TABLE: table,
      CONS_STATE_DIR: stateDir,
      CONS_WORKER: `w${start + 1}`,
      CONS_VALKEY: valkeyUrl,
      CONS_RULES: JSON.stringify(rules),
      CONS_FENCING: protectedRun ? '1' : '0',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    }),

    async write(n, i, id, k) {
      const tag = `${n}-${i}`;
      if (k < 0.45) {
        await ddb.send(
          new PutItemCommand({
            TableName: table,
            Item: { Id: { N: String(id) }, name: { S: `p${tag}` }, n: { N: String(i) } },
          }),
        );
        stats.records++;
      } else if (k < 0.85) {
        await update(id, `u${tag}`, i);
        stats.records++;
      } else {
        const r = await ddb.send(
          new DeleteItemCommand({
            TableName: table,
            Key: { Id: { N: String(id) } },
            ReturnValues: 'ALL_OLD',
          }),
        );
        if (r.Attributes !== undefined) stats.records++;
      }
      stats.writes++;
    },

    async drained(what) {
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
          return events.length >= stats.records || Date.now() - quietSince > 5000;
        },
        60_000,
        100,
      ).catch((error: Error) => {
        throw new Error(`${error.message} (seen ${events.length} of ${stats.records})`);
      });
      if (events.length < stats.records)
        process.stderr.write(
          `[${what}] stream quiet with ${events.length} of ${stats.records} counted writes seen\n`,
        );
      const newest = events.reduce((m, e) => (BigInt(e.version) > m ? BigInt(e.version) : m), -1n);
      await waitFor(
        `${what}: the poller checkpointed the newest record`,
        async () => (await checkpointed()) >= newest,
        120_000,
        200,
      );
    },

    // A replay from an old shard position: applied straight to the target the poller writes.
    async replayOldest() {
      const cdcTarget = await createValkeyTarget({ url: valkeyUrl, fencing: protectedRun });
      const oldest = new Map<string, ChangeEvent>();
      for (const e of events)
        if (e.op !== 'delete' && !oldest.has(String(e.key!.Id))) oldest.set(String(e.key!.Id), e);
      await cdcTarget.apply(planBatch(config, [...oldest.values()]).ops);
      await cdcTarget.close();
    },

    async raceBefore(id) {
      await ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: { Id: { N: String(id) }, name: { S: 'race-before' }, n: { N: '0' } },
        }),
      );
      stats.records++;
    },

    async raceRead(id) {
      const { Item } = await ddb.send(
        new GetItemCommand({ TableName: table, Key: { Id: { N: String(id) } }, ConsistentRead: true }),
      );
      return itemProjection(Item as Record<string, { S?: string; N?: string }>);
    },

    async raceUpdate(id) {
      await update(id, 'race-after');
      stats.records++;
      stats.writes++;
    },

    async stopFollowing() {
      reading = false;
      await streamReader;
    },

    async close() {
      ddb.destroy();
      streams.destroy();
    },

    stats: () => stats,
  };
}

/** The results section of the DynamoDB runs (bench/results/consistency.md). */
export function formatDynamoDbResults(runs: DynamoDbRun[]): string {
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
  return lines.join('\n');
}
