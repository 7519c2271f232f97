/**
 * `cdc-cache verify --dynamodb-stream`: follows a table's DynamoDB stream live for the verifier
 * through the Streams port's read-only tail (consumers/dynamodb/stream-tail.ts: no leases, no
 * checkpoints). Records that cannot be decoded are counted and skipped.
 */
import { decodeDocument } from '../../../core/decode/document.ts';
import type { ChangeEvent } from '../../../core/event/change-event.ts';
import { loadOptional } from '../../../core/optional-dependency.ts';

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
  const { createAwsStreamsClient } = await loadOptional(
    'cdc-cache verify --dynamodb-stream',
    () => import('../../../consumers/dynamodb/aws-streams-client.ts'),
  );
  const { tailDynamoDbStream } = await import('../../../consumers/dynamodb/stream-tail.ts');
  const { dynamoDbRecordToJson } = await import('../../../consumers/dynamodb/change-log-record.ts');
  const streams = createAwsStreamsClient({
    ...(endpoint === undefined ? {} : { endpoint }),
    region: region ?? process.env.AWS_REGION ?? 'us-east-1',
    maxAttempts: 3,
  });
  let undecodable = 0;
  let stopped = false;
  const stop = () => {
    stopped = true;
  };
  try {
    const arn = await streams.latestStreamArn(table);
    if (arn === undefined)
      throw new Error(
        `--dynamodb-stream ${table}: the table has no stream (enable one with NEW_AND_OLD_IMAGES or NEW_IMAGE)`,
      );
    process.once('SIGINT', stop).once('SIGTERM', stop);
    const until = Date.now() + durationMs;
    let rounds = 0;
    await tailDynamoDbStream(streams, {
      streamArn: arn,
      from: 'latest',
      pollMs: 200,
      describeEveryMs: 5000,
      onRecord: (r) => {
        try {
          const json = dynamoDbRecordToJson(r as Parameters<typeof dynamoDbRecordToJson>[0]);
          for (const e of decodeDocument(JSON.stringify(json), { source: 'dynamodb', table })) observe(e);
        } catch {
          undecodable++;
        }
      },
      done: async () => {
        if (rounds++ > 0) await tick();
        return stopped || Date.now() >= until;
      },
      onError: (error) =>
        process.stderr.write(`verify: ${table} stream: ${(error as Error).message} (retrying)\n`),
    });
  } finally {
    process.off('SIGINT', stop).off('SIGTERM', stop);
    streams.close();
  }
  if (undecodable > 0)
    process.stderr.write(`verify: ${undecodable} records could not be decoded (skipped)\n`);
}
