/**
 * The DynamoDB lease table against DynamoDB Local: created on first use (on-demand), one item per
 * shard, conditional writes on leaseOwner / leaseCounter (one winner of a race; a non-holder moves
 * nothing), takeover only after the holder's counter stood still for a TTL (the store's own clock —
 * injected here, so the test advances it instead of waiting), the balancing contract, and a wrong
 * key schema refused with the fix.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDynamoDbLeaseTable,
  type DynamoDbLeaseTable,
} from '../../../consumers/dynamodb/dynamodb-lease-table.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { leaseBalancingContract } from '../../support/lease-balancing-contract.ts';

let ddb: DynamoDBClient;
let endpoint: string;
const tables: DynamoDbLeaseTable[] = [];
const tableName = `it_leases_${Date.now()}_${process.pid}`;
let n = 0;
const stream = () => `arn:aws:dynamodb:us-east-1:000000000000:table/lt/stream/${Date.now()}-${n++}`;

beforeAll(() => {
  requireServices('dynamodb');
  endpoint = serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT');
  ddb = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(() => {
  for (const t of tables) t.close();
  ddb?.destroy();
});

function open(now?: () => number): DynamoDbLeaseTable {
  const t = createDynamoDbLeaseTable({
    table: tableName,
    region: 'us-east-1',
    endpoint,
    ...(now === undefined ? {} : { now }),
  });
  tables.push(t);
  return t;
}

describe('dynamodb lease table (DynamoDB Local)', () => {
  it('is created on first use with on-demand billing and the streamArn + leaseKey key', async () => {
    await open().storeFor(stream());
    const d = await ddb.send(new DescribeTableCommand({ TableName: tableName }));
    expect(d.Table?.KeySchema).toEqual([
      { AttributeName: 'streamArn', KeyType: 'HASH' },
      { AttributeName: 'leaseKey', KeyType: 'RANGE' },
    ]);
    expect(d.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expireAt');
  });

  it('keeps one item per shard: owner, counter and checkpoint; only the holder writes', async () => {
    const arn = stream();
    const a = await open().storeFor(arn);
    const b = await open().storeFor(arn);
    expect(await a.acquire('shardId-1', 'w1', 10_000)).toBe(true);
    expect(await b.acquire('shardId-1', 'w2', 10_000)).toBe(false);
    expect(await a.setCheckpoint('shardId-1', 'w1', { sequenceNumber: '4200' })).toBe(true);
    expect(await b.setCheckpoint('shardId-1', 'w2', { sequenceNumber: '9999' })).toBe(false);
    expect(await b.renew('shardId-1', 'w2', 10_000)).toBe(false);
    await b.release('shardId-1', 'w2'); // not the holder: nothing happens
    const item = (
      await ddb.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { streamArn: { S: arn }, leaseKey: { S: 'shardId-1' } },
          ConsistentRead: true,
        }),
      )
    ).Item;
    expect(item?.leaseOwner).toEqual({ S: 'w1' });
    expect(item?.checkpoint).toEqual({ S: '4200' });
    expect(Number(item?.leaseCounter?.N)).toBeGreaterThanOrEqual(1);
    expect(await a.setCheckpoint('shardId-1', 'w1', { finished: true })).toBe(true);
    expect(await b.finished()).toEqual(new Set(['shardId-1']));
    // A finished shard's item expires (table TTL) two days on, after the stream has trimmed it.
    const done = await ddb.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { streamArn: { S: arn }, leaseKey: { S: 'shardId-1' } },
        ConsistentRead: true,
      }),
    );
    expect(Number(done.Item?.expireAt?.N) - Date.now() / 1000).toBeGreaterThan(24 * 3600);
    expect(await b.checkpoint('shardId-1')).toEqual({ sequenceNumber: '4200', finished: true });
  });

  it('one of many racing workers wins a free shard', async () => {
    const arn = stream();
    const stores = await Promise.all([1, 2, 3, 4].map(() => open().storeFor(arn)));
    const wins = await Promise.all(stores.map((s, i) => s.acquire('contested', `w${i}`, 10_000)));
    expect(wins.filter(Boolean)).toHaveLength(1);
  });

  it('takes a lease over only after its counter stood still for a TTL (no clock comparison)', async () => {
    const arn = stream();
    let clock = 1_000_000;
    const a = await open().storeFor(arn);
    const b = await open(() => clock).storeFor(arn);
    expect(await a.acquire('s', 'dead', 5000)).toBe(true);
    expect(await a.setCheckpoint('s', 'dead', { sequenceNumber: '10' })).toBe(true);
    expect(await b.acquire('s', 'w2', 5000)).toBe(false); // first sight of the counter
    clock += 4000;
    expect(await b.acquire('s', 'w2', 5000)).toBe(false); // not a TTL yet
    expect(await a.renew('s', 'dead', 5000)).toBe(true); // the holder is alive after all: counter moves
    clock += 4000;
    expect(await b.acquire('s', 'w2', 5000)).toBe(false); // a changed counter restarts the wait
    clock += 5000;
    expect(await b.holders(['s'])).toEqual(new Map()); // stood still a TTL: expired, shown as free
    expect(await b.acquire('s', 'w2', 5000)).toBe(true);
    expect(await a.renew('s', 'dead', 5000)).toBe(false);
    expect(await b.checkpoint('s')).toEqual({ sequenceNumber: '10' });
  });

  it('refuses a table with another key schema, naming the fix', async () => {
    const other = `it_leases_bad_${Date.now()}`;
    await ddb.send(
      new CreateTableCommand({
        TableName: other,
        KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const t = createDynamoDbLeaseTable({ table: other, region: 'us-east-1', endpoint });
    tables.push(t);
    await expect(t.storeFor(stream())).rejects.toThrow(/key schema is leaseKey:HASH.*--lease-table/);
  });

  describe('balancing contract', () => {
    leaseBalancingContract(async () => {
      const arn = stream();
      return { a: await open().storeFor(arn), b: await open().storeFor(arn) };
    });
  });
});
