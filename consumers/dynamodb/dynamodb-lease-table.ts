/**
 * The DynamoDB lease table (`--lease-table`): one client for every stream, the table checked (key
 * schema) and created when missing — on-demand billing, TTL on `expireAt` — then a lease store per
 * stream (dynamodb-lease-store.ts). With dynamodb-lease-store.ts, the only files of the poller that
 * import @aws-sdk/client-dynamodb.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { TargetError } from '../../core/errors.ts';
import type { ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';
import { awsErrorName, conditionFailed, dynamoDbLeaseStore, toLeaseError } from './dynamodb-lease-store.ts';

/** Options of {@link createDynamoDbLeaseTable}. */
export interface DynamoDbLeaseTableOptions {
  /** Table name. */
  table: string;
  region: string;
  /** Endpoint override (DynamoDB Local). */
  endpoint?: string;
  /** Create the table (on-demand) when it does not exist. @default true */
  create?: boolean;
  /** Local clock for expiry by observation. @default Date.now */
  now?: () => number;
}

/** A lease table: a store per stream, and the client to close. */
export interface DynamoDbLeaseTable {
  /** Checks (and creates) the table; the store of `streamArn`'s shards. */
  storeFor(streamArn: string): Promise<ShardLeaseStore>;
  close(): void;
}

/** Opens the lease table `o.table` (one client for every stream). */
export function createDynamoDbLeaseTable(o: DynamoDbLeaseTableOptions): DynamoDbLeaseTable {
  const config: DynamoDBClientConfig = { region: o.region, maxAttempts: 3 };
  if (o.endpoint !== undefined) {
    config.endpoint = o.endpoint;
    if (process.env.AWS_ACCESS_KEY_ID === undefined)
      config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const client = new DynamoDBClient(config);
  let ready: Promise<void> | undefined;
  const send = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      if (conditionFailed(error)) throw error;
      throw toLeaseError(error, o.table, what);
    }
  };

  async function ensureTable(): Promise<void> {
    let created = false;
    for (let i = 0; i < 120; i++) {
      let status: string | undefined;
      try {
        const d = await client.send(new DescribeTableCommand({ TableName: o.table }));
        const keys = (d.Table?.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
        if (keys !== 'streamArn:HASH,leaseKey:RANGE')
          throw new TargetError(
            `lease table ${o.table}: key schema is ${keys}; it must be streamArn (HASH, S) + leaseKey (RANGE, S) — give --lease-table another name`,
            { retriable: false },
          );
        status = d.Table?.TableStatus;
      } catch (error) {
        if (error instanceof TargetError) throw error;
        if (awsErrorName(error) !== 'ResourceNotFoundException' || o.create === false)
          throw toLeaseError(error, o.table, 'DescribeTable');
        try {
          await client.send(
            new CreateTableCommand({
              TableName: o.table,
              KeySchema: [
                { AttributeName: 'streamArn', KeyType: 'HASH' },
                { AttributeName: 'leaseKey', KeyType: 'RANGE' },
              ],
              AttributeDefinitions: [
                { AttributeName: 'streamArn', AttributeType: 'S' },
                { AttributeName: 'leaseKey', AttributeType: 'S' },
              ],
              BillingMode: 'PAY_PER_REQUEST',
            }),
          );
          created = true;
        } catch (e) {
          // Another worker created it first.
          if (awsErrorName(e) !== 'ResourceInUseException') throw toLeaseError(e, o.table, 'CreateTable');
        }
      }
      if (status === 'ACTIVE' || status === 'UPDATING') {
        if (created) await enableTtl();
        return;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new TargetError(`lease table ${o.table}: not ACTIVE after 60 s`, { retriable: true });
  }

  /** Finished shards' and gone workers' items expire (`expireAt`); a table made elsewhere may skip it. */
  async function enableTtl(): Promise<void> {
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: o.table,
          TimeToLiveSpecification: { AttributeName: 'expireAt', Enabled: true },
        }),
      );
    } catch (error) {
      // Already on (another worker created the table at the same moment): fine.
      if (awsErrorName(error) !== 'ValidationException')
        throw toLeaseError(error, o.table, 'UpdateTimeToLive');
    }
  }

  return {
    async storeFor(streamArn) {
      ready ??= ensureTable().catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      await ready;
      return dynamoDbLeaseStore(client, o.table, streamArn, send, o.now ?? Date.now);
    },
    close: () => client.destroy(),
  };
}
