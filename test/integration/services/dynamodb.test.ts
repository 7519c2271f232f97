/**
 * DynamoDB Local serves tables with Streams: a PutItem on a NEW_AND_OLD_IMAGES table comes back
 * from DescribeStream / GetShardIterator / GetRecords with its new image.
 */
import { DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { createStreamTable } from '../../support/dynamodb.ts';

// DynamoDB Local accepts any credentials; fixed ones keep the SDK from searching for real ones.
const local = () => ({
  endpoint: serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

describe('dynamodb local with streams', () => {
  const table = `it_items_${process.pid}_${Date.now()}`;
  let db: DynamoDBClient;
  let streams: DynamoDBStreamsClient;
  beforeAll(() => {
    requireServices('dynamodb');
    db = new DynamoDBClient(local());
    streams = new DynamoDBStreamsClient(local());
  });
  afterAll(async () => {
    await db?.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    db?.destroy();
    streams?.destroy();
  });

  it('streams a PutItem as an INSERT record with its new image', async () => {
    const streamArn = await createStreamTable(db, table);
    expect(streamArn).toBeTruthy();
    await db.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'item-1' }, qty: { N: '3' } } }));

    const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    expect(described.StreamDescription?.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
    const shardId = described.StreamDescription?.Shards?.[0]?.ShardId;
    expect(shardId).toBeTruthy();
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records } = await streams.send(new GetRecordsCommand({ ShardIterator }));
    expect(Records).toHaveLength(1);
    expect(Records?.[0]?.eventName).toBe('INSERT');
    expect(Records?.[0]?.dynamodb?.Keys).toEqual({ pk: { S: 'item-1' } });
    expect(Records?.[0]?.dynamodb?.NewImage).toEqual({ pk: { S: 'item-1' }, qty: { N: '3' } });
    expect(Records?.[0]?.dynamodb?.SequenceNumber).toMatch(/^\d+$/);
  });
});
