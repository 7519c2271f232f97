/**
 * Balanced shard leases on the real DynamoDB lease table (DynamoDB Local): three pollers over the
 * 18-shard in-memory stream of test/support/shard-balance-harness.ts, each with its own table
 * client (as separate processes would have), real time. Waits are count-based (until the holders
 * reach the balance, bounded), never timed assertions: balanced after a join; after a clean stop
 * the stopped worker holds nothing and the others share its shards; a frozen worker's (SIGKILL)
 * leases are taken over once their counters stand still for a TTL; every record applied; no shard
 * applied by two workers at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDynamoDbLeaseTable,
  type DynamoDbLeaseTable,
} from '../../../consumers/dynamodb/dynamodb-lease-table.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { waitFor } from '../../support/consumers.ts';
import { createBalanceHarness, HARNESS_ARN } from '../../support/shard-balance-harness.ts';

const TTL = 2000;
const tables: DynamoDbLeaseTable[] = [];
let endpoint: string;
const tableName = `it_lease_balance_${Date.now()}_${process.pid}`;

beforeAll(() => {
  requireServices('dynamodb');
  endpoint = serviceEnv('CDC_CACHE_DYNAMODB_ENDPOINT');
});

afterAll(() => {
  for (const t of tables) t.close();
});

function table(): DynamoDbLeaseTable {
  const t = createDynamoDbLeaseTable({ table: tableName, region: 'us-east-1', endpoint });
  tables.push(t);
  return t;
}

describe('balanced shard leases on the DynamoDB lease table (DynamoDB Local)', () => {
  it('three workers share 18 shards evenly through a join, a clean leave and a crash, losing nothing', async () => {
    const target = createEngineTarget();
    // A fresh stream scope in the shared table for this run.
    const arn = `${HARNESS_ARN}-${Date.now()}`;
    const h = createBalanceHarness({
      shards: 18,
      leaseTtlMs: TTL,
      rescanMs: 500,
      target,
      leasesFor: () => table().storeFor(arn),
      streamArn: arn,
    });
    const observer = await table().storeFor(arn);
    const writer = setInterval(() => h.writeRound(), 500);
    const sorted = (c: Record<string, number>) => JSON.stringify(Object.entries(c).sort());
    const balanced = (want: Record<string, number>) => async () =>
      sorted(await h.counts(observer)) === sorted(want);
    try {
      const a = await h.startWorker('a');
      await waitFor('a holding all 18', balanced({ a: 18 }), 60_000, 200);
      const b = await h.startWorker('b');
      const c = await h.startWorker('c');
      await waitFor('6/6/6 after the join', balanced({ a: 6, b: 6, c: 6 }), 60_000, 200);

      await c.poller.stop();
      expect(c.poller.state.leased).toBe(0);
      await waitFor('9/9 after c stopped', balanced({ a: 9, b: 9 }), 60_000, 200);

      const d = await h.startWorker('d');
      await waitFor('6/6/6 after d joined', balanced({ a: 6, b: 6, d: 6 }), 60_000, 200);
      b.freeze();
      await waitFor("b's shards taken over: 9/9", balanced({ a: 9, d: 9 }), 60_000, 200);

      clearInterval(writer);
      await waitFor('every record applied', async () => (await h.missing()).length === 0, 60_000, 200);
      h.assertNoOverlap();
      expect(a.poller.state.records + d.poller.state.records).toBeGreaterThan(0);
      await Promise.all([a.poller.stop(), d.poller.stop()]);
      expect(await h.counts(observer)).toEqual({});
    } finally {
      clearInterval(writer);
    }
  });
});
