/**
 * Randomized consistency test on DynamoDB Local (the DynamoDB half of issue 9's test): the shared
 * run (test/support/consistency/run.ts) with the DynamoDB source (dynamodb-streams.ts). Per run:
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DynamoDbRun,
  dynamoDbSource,
  formatDynamoDbResults,
  prepareDynamoDb,
} from '../../support/consistency/dynamodb-streams.ts';
import { appendResults } from '../../support/consistency/harness.ts';
import { runConsistency } from '../../support/consistency/run.ts';

const runs: DynamoDbRun[] = [];
let endpoint: string;

beforeAll(() => {
  endpoint = prepareDynamoDb();
});

afterAll(() => {
  if (runs.length > 0) appendResults(formatDynamoDbResults(runs));
});

async function run(name: string, protectedRun: boolean): Promise<DynamoDbRun> {
  const source = await dynamoDbSource(endpoint, protectedRun);
  const result = { ...(await runConsistency(source, name, protectedRun)), ...source.stats() };
  runs.push(result);
  return result;
}

describe('randomized consistency on DynamoDB Local: writers, lease-guarded apps, the Streams poller with a crash', () => {
  it('with version fencing and leases the verifier finds 0 stale keys after the drain', async () => {
    const r = await run('fencing + leases', true);
    expect(r.full.windows[0]!.checked).toBeGreaterThan(0);
    expect(r.full.windows[0]!.unverified).toBe(0);
    expect(r.full.inconsistencies).toEqual([]);
    expect(r.full.staleKeys).toBe(0);
    expect(r.raceFill).toMatch(/^rejected/);
  }, 300_000);

  it('the same run with fencing and leases switched off leaves stale keys', async () => {
    const r = await run('no fencing, no leases', false);
    expect(r.raceFill).toBe('filled');
    expect(r.full.staleKeys).toBeGreaterThan(0);
    const keys = r.full.inconsistencies.map((i) => i.key);
    expect(keys).toContain(r.raceKey);
    expect(keys.some((k) => k.includes(':cr:'))).toBe(true);
  }, 300_000);
});
