/**
 * `cdc-cache verify --dynamodb-stream`: follows a table's DynamoDB stream live for the verifier,
 * read-only (no leases, no checkpoints). Records that cannot be decoded are counted and skipped.
 */
import { decodeDocument } from '../../../core/decode/document.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import { loadOptional } from '../../../core/optional-dependency.ts';

/** Sleeps `ms`. */
async function pause(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * Follows a table's DynamoDB stream from its newest records (LATEST on the shards open at start,
 * TRIM_HORIZON on shards that appear later), read-only: no leases, no checkpoints.
 */
export async function followDynamoDbStream(
  table: string,
  endpoint: string | undefined,
  region: string | undefined,
  durationMs: number,
  observe: (e: ChangeEvent) => void,
  tick: () => Promise<void>,
): Promise<void> {
  const ddb = await loadOptional(
    'cdc-cache verify --dynamodb-stream',
    () => import('@aws-sdk/client-dynamodb'),
  );
  const sdk = await loadOptional(
    'cdc-cache verify --dynamodb-stream',
    () => import('@aws-sdk/client-dynamodb-streams'),
  );
  const { dynamoDbRecordToJson } = await import('../../../consumers/record/capture.ts');
  const config = {
    ...(endpoint === undefined ? {} : { endpoint }),
    region: region ?? process.env.AWS_REGION ?? 'us-east-1',
  };
  const db = new ddb.DynamoDBClient(config);
  const streams = new sdk.DynamoDBStreamsClient(config);
  let undecodable = 0;
  try {
    const described = await db.send(new ddb.DescribeTableCommand({ TableName: table }));
    const arn = described.Table?.LatestStreamArn;
    if (arn === undefined)
      throw new Error(
        `--dynamodb-stream ${table}: the table has no stream (enable one with NEW_AND_OLD_IMAGES or NEW_IMAGE)`,
      );
    const iterators = new Map<string, string | undefined>();
    const lastSeq = new Map<string, string>();
    const closed = new Set<string>();
    let first = true;
    let lastScan = 0;
    const iteratorFor = async (shard: string, latest: boolean) =>
      (
        await streams.send(
          new sdk.GetShardIteratorCommand({
            StreamArn: arn,
            ShardId: shard,
            ...(lastSeq.has(shard)
              ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: lastSeq.get(shard)! }
              : { ShardIteratorType: latest ? 'LATEST' : 'TRIM_HORIZON' }),
          }),
        )
      ).ShardIterator;
    let stopped = false;
    const stop = () => {
      stopped = true;
    };
    process.once('SIGINT', stop).once('SIGTERM', stop);
    const until = Date.now() + durationMs;
    while (!stopped && Date.now() < until) {
      try {
        if (Date.now() - lastScan > 5000) {
          lastScan = Date.now();
          let start: string | undefined;
          do {
            const d = await streams.send(
              new sdk.DescribeStreamCommand({
                StreamArn: arn,
                ...(start === undefined ? {} : { ExclusiveStartShardId: start }),
              }),
            );
            for (const shard of d.StreamDescription?.Shards ?? []) {
              const id = shard.ShardId!;
              if (iterators.has(id) || closed.has(id)) continue;
              // Shards open at start: from now on. Closed ones at start: already history, skipped.
              if (first && shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) {
                closed.add(id);
                continue;
              }
              iterators.set(id, await iteratorFor(id, first));
            }
            start = d.StreamDescription?.LastEvaluatedShardId;
          } while (start !== undefined);
          first = false;
        }
        for (const [shard, iterator] of iterators) {
          if (closed.has(shard)) continue;
          const got = await streams.send(
            new sdk.GetRecordsCommand({ ShardIterator: iterator ?? (await iteratorFor(shard, false)) }),
          );
          iterators.set(shard, got.NextShardIterator);
          if (got.NextShardIterator === undefined) closed.add(shard);
          for (const r of got.Records ?? []) {
            lastSeq.set(shard, r.dynamodb?.SequenceNumber ?? '');
            try {
              for (const e of decodeDocument(JSON.stringify(dynamoDbRecordToJson(r)), {
                source: 'dynamodb',
                table,
              }))
                observe(e);
            } catch {
              undecodable++;
            }
          }
        }
      } catch (error) {
        if (first) throw error; // cannot even start: report it
        process.stderr.write(`verify: ${table} stream: ${(error as Error).message} (retrying)\n`);
        for (const shard of iterators.keys()) iterators.set(shard, undefined);
      }
      await tick();
      await pause(200);
    }
    process.off('SIGINT', stop).off('SIGTERM', stop);
  } finally {
    db.destroy();
    streams.destroy();
  }
  if (undecodable > 0)
    process.stderr.write(`verify: ${undecodable} records could not be decoded (skipped)\n`);
}
