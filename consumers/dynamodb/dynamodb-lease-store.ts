/**
 * The items of the DynamoDB lease table (dynamodb-lease-table.ts makes and checks the table), the
 * Kinesis Client Library's convention: one item per shard, every change a conditional write on
 * `leaseOwner` / `leaseCounter`, the checkpoint in the item. Unlike a cache, the table never evicts
 * or loses a checkpoint, so it is the production default.
 *
 * Items (key `streamArn` HASH + `leaseKey` RANGE, so one table serves many streams):
 * - shard items (`leaseKey` = shard id): `leaseOwner` (S; absent = free), `leaseCounter` (N, bumped
 *   by every acquire, renew, steal and release), `leaseTtlMs` (N), `checkpoint` (S, the sequence
 *   number), `finished` / `skipped` (BOOL), and once finished `expireAt` (N, epoch seconds, two days
 *   on: the table's TTL removes it after the stream has trimmed the shard).
 * - worker items (`leaseKey` = `worker#ID`): `heartbeatCounter` (N), `ttlMs` (N), `expireAt` (a day
 *   after the last beat, so a killed worker's item goes away too).
 *
 * Expiry without comparing host clocks (as KCL): a lease (or heartbeat) is expired when this store
 * has seen its counter unchanged for `leaseTtlMs` of its own clock. A worker that renews bumps the
 * counter, so only a dead or stalled holder's lease expires; a takeover is conditional on the
 * counter it saw, so a holder that renews at the last moment keeps its lease.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TargetError } from '../../core/errors.ts';
import type { ShardCheckpoint, ShardLeaseStore } from '../../core/targets/shard-lease-store.ts';

/** How long a finished shard's item stays (the stream keeps a shard 24 h). */
const FINISHED_ITEM_SECONDS = 2 * 24 * 3600;
/** How long a worker item outlives its last heartbeat. */
const WORKER_ITEM_SECONDS = 24 * 3600;

type Item = Record<string, { S?: string; N?: string; BOOL?: boolean }>;

const WORKER = 'worker#';
const THROTTLED =
  /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|InternalServerError|ServiceUnavailable/;

/** The SDK error's name (`ConditionalCheckFailedException`, …). */
export function awsErrorName(error: unknown): string {
  return (error as { name?: string }).name ?? '';
}

/** True for the error of a conditional write whose condition did not hold. */
export const conditionFailed = (error: unknown) => awsErrorName(error) === 'ConditionalCheckFailedException';

/** Sorts an SDK error: throttling, 5xx and network errors are retriable, the rest are not. */
export function toLeaseError(error: unknown, table: string, what: string): TargetError {
  const name = awsErrorName(error);
  const fault = (error as { $fault?: string }).$fault;
  const retriable =
    THROTTLED.test(name) || fault === 'server' || name === 'TimeoutError' || !name.endsWith('Exception');
  const fix =
    name === 'ResourceNotFoundException'
      ? ` (create it: see consumers/README.md, or let the poller create it)`
      : name === 'AccessDeniedException'
        ? ' (grant dynamodb:GetItem, UpdateItem, DeleteItem, Query, BatchGetItem, DescribeTable on it; CreateTable and UpdateTimeToLive too if the poller is to create it)'
        : '';
  return new TargetError(`lease table ${table}: ${what}: ${(error as Error).message}${fix}`, {
    retriable,
    cause: error,
  });
}

/** The store of `streamArn`'s leases in `table` (the table exists; `send` sorts SDK errors). */
export function dynamoDbLeaseStore(
  client: DynamoDBClient,
  table: string,
  streamArn: string,
  send: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
  now: () => number,
): ShardLeaseStore {
  const key = (leaseKey: string) => ({ streamArn: { S: streamArn }, leaseKey: { S: leaseKey } });
  /** What this store last saw of each lease / heartbeat, and since when (local clock). */
  const seen = new Map<string, { owner: string; counter: string; since: number }>();
  /** True when `leaseKey`'s record has not changed for `ttlMs` of our clock. */
  const expired = (leaseKey: string, owner: string, counter: string, ttlMs: number): boolean => {
    const s = seen.get(leaseKey);
    if (s === undefined || s.owner !== owner || s.counter !== counter) {
      seen.set(leaseKey, { owner, counter, since: now() });
      return false;
    }
    return now() - s.since >= ttlMs;
  };
  /** A conditional update; false when the condition failed. */
  const update = async (what: string, input: Omit<UpdateItemCommandInput, 'TableName'>) => {
    try {
      await send(what, () => client.send(new UpdateItemCommand({ ...input, TableName: table })));
      return true;
    } catch (error) {
      if (conditionFailed(error)) return false;
      throw error;
    }
  };
  const getItem = async (leaseKey: string): Promise<Item | undefined> =>
    (
      await send('GetItem', () =>
        client.send(new GetItemCommand({ TableName: table, Key: key(leaseKey), ConsistentRead: true })),
      )
    ).Item as Item | undefined;
  const query = async (prefix?: string): Promise<Item[]> => {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await send('Query', () =>
        client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression:
              prefix === undefined ? 'streamArn = :s' : 'streamArn = :s AND begins_with(leaseKey, :p)',
            ExpressionAttributeValues:
              prefix === undefined
                ? { ':s': { S: streamArn } }
                : { ':s': { S: streamArn }, ':p': { S: prefix } },
            ConsistentRead: true,
            ...(start === undefined ? {} : { ExclusiveStartKey: start as never }),
          }),
        ),
      );
      items.push(...((r.Items ?? []) as Item[]));
      start = r.LastEvaluatedKey;
    } while (start !== undefined);
    return items;
  };
  const renew = (id: string, owner: string, ttlMs: number) =>
    update('UpdateItem (renew)', {
      Key: key(id),
      UpdateExpression: 'SET leaseCounter = leaseCounter + :one, leaseTtlMs = :t',
      ConditionExpression: 'leaseOwner = :o',
      ExpressionAttributeValues: { ':one': { N: '1' }, ':t': { N: String(ttlMs) }, ':o': { S: owner } },
    });

  return {
    async acquire(id, owner, ttlMs) {
      const item = await getItem(id);
      const holder = item?.leaseOwner?.S;
      if (holder === owner) return renew(id, owner, ttlMs);
      const values = {
        ':one': { N: '1' },
        ':zero': { N: '0' },
        ':t': { N: String(ttlMs) },
        ':o': { S: owner },
      };
      const set =
        'SET leaseOwner = :o, leaseCounter = if_not_exists(leaseCounter, :zero) + :one, leaseTtlMs = :t';
      if (holder === undefined)
        return update('UpdateItem (acquire)', {
          Key: key(id),
          UpdateExpression: set,
          ConditionExpression: 'attribute_not_exists(leaseOwner)',
          ExpressionAttributeValues: values,
        });
      const counter = item?.leaseCounter?.N ?? '0';
      if (!expired(id, holder, counter, Number(item?.leaseTtlMs?.N ?? ttlMs))) return false;
      return update('UpdateItem (take over)', {
        Key: key(id),
        UpdateExpression: set,
        ConditionExpression: 'leaseOwner = :prev AND leaseCounter = :c',
        ExpressionAttributeValues: { ...values, ':prev': { S: holder }, ':c': { N: counter } },
      });
    },
    renew,
    async release(id, owner) {
      await update('UpdateItem (release)', {
        Key: key(id),
        UpdateExpression: 'REMOVE leaseOwner SET leaseCounter = leaseCounter + :one',
        ConditionExpression: 'leaseOwner = :o',
        ExpressionAttributeValues: { ':one': { N: '1' }, ':o': { S: owner } },
      });
    },
    async checkpoint(id) {
      const item = await getItem(id);
      const c: ShardCheckpoint = {};
      if (item?.checkpoint?.S !== undefined) c.sequenceNumber = item.checkpoint.S;
      if (item?.finished?.BOOL === true) c.finished = true;
      if (item?.skipped?.BOOL === true) c.skipped = true;
      return c;
    },
    async setCheckpoint(id, owner, c) {
      const sets: string[] = [];
      const values: Record<string, AttributeValue> = { ':o': { S: owner } };
      if (c.sequenceNumber !== undefined) {
        sets.push('checkpoint = :c');
        values[':c'] = { S: c.sequenceNumber };
      }
      if (c.finished) {
        sets.push('finished = :t', 'expireAt = :x');
        values[':t'] = { BOOL: true };
        values[':x'] = { N: String(Math.floor(Date.now() / 1000) + FINISHED_ITEM_SECONDS) };
      }
      if (c.skipped) {
        sets.push('skipped = :t');
        values[':t'] = { BOOL: true };
      }
      if (sets.length === 0) return (await getItem(id))?.leaseOwner?.S === owner;
      return update('UpdateItem (checkpoint)', {
        Key: key(id),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'leaseOwner = :o',
        ExpressionAttributeValues: values,
      });
    },
    async finished() {
      const out = new Set<string>();
      for (const item of await query())
        if (item.finished?.BOOL === true && item.leaseKey?.S !== undefined) out.add(item.leaseKey.S);
      return out;
    },
    async heartbeat(owner, ttlMs) {
      await update('UpdateItem (heartbeat)', {
        Key: key(`${WORKER}${owner}`),
        UpdateExpression:
          'SET heartbeatCounter = if_not_exists(heartbeatCounter, :zero) + :one, ttlMs = :t, expireAt = :x',
        ExpressionAttributeValues: {
          ':zero': { N: '0' },
          ':one': { N: '1' },
          ':t': { N: String(ttlMs) },
          ':x': { N: String(Math.floor(Date.now() / 1000) + WORKER_ITEM_SECONDS) },
        },
      });
    },
    async leave(owner) {
      await send('DeleteItem', () =>
        client.send(new DeleteItemCommand({ TableName: table, Key: key(`${WORKER}${owner}`) })),
      );
    },
    async liveWorkers() {
      const live: string[] = [];
      for (const item of await query(WORKER)) {
        const k = item.leaseKey?.S ?? '';
        const counter = item.heartbeatCounter?.N ?? '0';
        if (!expired(k, '', counter, Number(item.ttlMs?.N ?? 0))) live.push(k.slice(WORKER.length));
      }
      return live.sort();
    },
    async holders(ids) {
      const out = new Map<string, string>();
      for (let i = 0; i < ids.length; i += 100) {
        let keys = ids.slice(i, i + 100).map((id) => key(id));
        for (let attempt = 0; keys.length > 0; attempt++) {
          const r: BatchGetItemCommandOutput = await send('BatchGetItem', () =>
            client.send(
              new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
            ),
          );
          for (const raw of r.Responses?.[table] ?? []) {
            const item = raw as Item;
            const id = item.leaseKey?.S;
            const owner = item.leaseOwner?.S;
            if (id === undefined || owner === undefined) continue;
            const ttl = Number(item.leaseTtlMs?.N ?? 0);
            if (!expired(id, owner, item.leaseCounter?.N ?? '0', ttl)) out.set(id, owner);
          }
          keys = (r.UnprocessedKeys?.[table]?.Keys ?? []) as typeof keys;
          if (keys.length > 0) await new Promise((res) => setTimeout(res, Math.min(1000, 50 * 2 ** attempt)));
        }
      }
      return out;
    },
    async steal(id, from, owner, ttlMs) {
      return update('UpdateItem (steal)', {
        Key: key(id),
        UpdateExpression: 'SET leaseOwner = :o, leaseCounter = leaseCounter + :one, leaseTtlMs = :t',
        ConditionExpression: 'leaseOwner = :from',
        ExpressionAttributeValues: {
          ':o': { S: owner },
          ':one': { N: '1' },
          ':t': { N: String(ttlMs) },
          ':from': { S: from },
        },
      });
    },
  };
}
