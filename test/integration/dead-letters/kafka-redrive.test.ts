/**
 * Redrive from the Kafka dead-letter topic against the real broker and real Valkey, with the CLI
 * as users run it. The dead letters are written by the consumers' own path (processBatch over
 * Kafka records, the dead-letter topic sink) while a rule has a typo; one more is a record that is
 * not JSON at all. Then:
 *
 * - `list` / `show` are a read-only tail: they commit nothing, and say the same twice;
 * - `--dry-run` plans and commits nothing; a target outage commits nothing either;
 * - after the fix `redrive` applies them, a newer change already in the cache is fenced (not
 *   overwritten), the non-JSON one fails again with its reason, and the redrive group is committed
 *   only up to it, so the next `list` shows just that one.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTarget } from '../../../bin/targets.ts';
import { kafkaDeadLetterSink } from '../../../consumers/kafka/dead-letter-topic.ts';
import { kafkaSourceRecord } from '../../../consumers/kafka/kafka-record.ts';
import { createKafkajsClient } from '../../../consumers/kafka/kafkajs-client.ts';
import { processBatch } from '../../../core/pipeline/batch.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import type { CacheTarget } from '../../../core/targets/cache-target.ts';
import { createEngineTarget } from '../../../core/targets/engine/engine-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import { runCli } from '../../support/cli.ts';
import { committedOffsets, createTopic, testKafka } from '../../support/consumers.ts';

const run = randomUUID().slice(0, 8);
const prefix = `dlqk-${run}:`;
const source = `it-orders-${run}`;
const dlq = `it-orders-dlq-${run}`;
const group = `cdc-cache-redrive.${dlq}`;
let valkey: CacheTarget;
let brokers: string;
let dir: string;

const rules = (keys: string[]) => ({
  keyPrefix: prefix,
  rules: [{ table: 'public.orders', source: 'debezium', keys, refresh: {} }],
});

/** A Debezium create of public.orders row `id` (JSON converter, schemas.enable=false), at `lsn`. */
function orderValue(id: number, lsn: number, total: number): string {
  return JSON.stringify({
    before: null,
    after: { id, total },
    source: { connector: 'postgresql', name: 'dbserver1', schema: 'public', table: 'orders', lsn, txId: 1 },
    op: 'c',
    ts_ms: 1700000000000,
  });
}

beforeAll(async () => {
  requireServices('kafka', 'valkey');
  brokers = serviceEnv('CDC_CACHE_KAFKA_BROKERS');
  valkey = await openTarget(serviceEnv('CDC_CACHE_VALKEY_URL'));
  dir = mkdtempSync(join(tmpdir(), 'cdc-kafka-redrive-'));
  await createTopic(testKafka(), dlq, 1);

  // The consumers' path with the typo'd rule: every record goes to the dead-letter topic.
  const producer = createKafkajsClient({ brokers: brokers.split(',') }).producer();
  await producer.connect();
  try {
    const messages = [
      { key: '{"id":1}', value: orderValue(1, 5001, 10) },
      { key: '{"id":2}', value: orderValue(2, 5002, 20) },
      { key: '{"id":3}', value: orderValue(3, 5003, 30) },
      { key: '{"id":4}', value: '{"before":null,"after":{"id":4' },
    ];
    const records = messages.map((m, i) => ({
      group: `${source}/0`,
      record: kafkaSourceRecord(
        source,
        0,
        { key: Buffer.from(m.key), value: Buffer.from(m.value), offset: String(40 + i), timestamp: '0' },
        {},
        () => {},
      ),
    }));
    const outcome = await processBatch(records, {
      config: compileConfig(rules(['order:{order_id}'])),
      target: createEngineTarget(),
      deadLetter: kafkaDeadLetterSink(producer, dlq),
    });
    expect(outcome.deadLetters).toBe(4);
  } finally {
    await producer.disconnect();
  }
});

afterAll(async () => {
  await valkey?.close();
});

const dest = () => `kafka://${brokers}/${dlq}`;

function rulesFile(name: string, r: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(r));
  return file;
}

describe('dead-letters on the Kafka dead-letter topic', () => {
  it('list and show are a read-only tail: same answer twice, nothing committed', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['dead-letters', 'list', dest()]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines).toHaveLength(4);
      expect(lines[0]).toMatch(
        new RegExp(`^${dlq}/0@0\\t${source}/0@40\\t\\[E_TEMPLATE_FIELD\\] .*order_id`),
      );
      expect(lines[3]).toMatch(new RegExp(`^${dlq}/0@3\\t${source}/0@43\\t\\[E_BAD_JSON\\]`));
      expect(r.stderr).toBe(`4 dead letters in kafka topic ${dlq}\n`);
    }
    const shown = await runCli(['dead-letters', 'show', dest(), `${dlq}/0@1`]);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).stored).toMatchObject({
      key: '{"id":2}',
      value: orderValue(2, 5002, 20),
    });
    expect((await committedOffsets(testKafka(), group, dlq)).get(0)).toBe(-1n);
  });

  it('dry run plans the ops and commits nothing', async () => {
    const fixed = rulesFile('fixed-dry', rules(['order:{id}']));
    const r = await runCli(['dead-letters', 'redrive', dest(), '--config', fixed, '--dry-run']);
    expect(r.code).toBe(1); // the non-JSON record would fail again
    expect(r.stdout).toContain(`would apply ${dlq}/0@0 ${source}/0@40: 1 ops\n`);
    expect(r.stdout).toContain(`"key":"${prefix}order:1"`);
    expect(r.stderr).toMatch(/3 would apply, 1 would fail again; nothing touched/);
    expect((await committedOffsets(testKafka(), group, dlq)).get(0)).toBe(-1n);
    expect(await valkey.get(`${prefix}order:1`)).toBeNull();
  });

  it('target outage: retried, stopped, exit 1, and the redrive group is not committed', async () => {
    const fixed = rulesFile('fixed-outage', rules(['order:{id}']));
    const r = await runCli([
      'dead-letters',
      'redrive',
      dest(),
      '--config',
      fixed,
      '--target',
      'engine://127.0.0.1:1',
      '--retry-attempts',
      '2',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/target failed \(attempt 1\), retrying/);
    expect(r.stderr).toMatch(/0 applied, 0 fenced, 1 failed again, 3 kept; 0 removed/);
    expect((await committedOffsets(testKafka(), group, dlq)).get(0)).toBe(-1n);
  });

  it('after the fix: applied, the newer key fenced, the bad one failed again; the group commits up to it', async () => {
    // Order 2 changed later (lsn 9002) and that change is in the cache already.
    await valkey.apply([
      { kind: 'refresh', key: `${prefix}order:2`, value: '{"id":2,"total":99}', ttlMs: 0, version: '9002' },
    ]);
    const fixed = rulesFile('fixed', rules(['order:{id}']));
    const r = await runCli([
      'dead-letters',
      'redrive',
      dest(),
      '--config',
      fixed,
      '--target',
      serviceEnv('CDC_CACHE_VALKEY_URL'),
    ]);
    expect(r.stdout).toContain(`applied ${dlq}/0@0 ${source}/0@40 (1 ops)\n`);
    expect(r.stdout).toContain(`fenced ${dlq}/0@1 ${source}/0@41: a newer version is already in the cache\n`);
    expect(r.stdout).toMatch(
      new RegExp(`failed ${dlq}/0@3 ${source}/0@43: \\[E_BAD_JSON\\] .*not valid JSON`),
    );
    expect(r.stderr).toMatch(/2 applied, 1 fenced, 1 failed again, 0 kept; 3 removed/);
    expect(r.code).toBe(1);
    expect(JSON.parse((await valkey.get(`${prefix}order:1`))!)).toEqual({ id: 1, total: 10 });
    expect(JSON.parse((await valkey.get(`${prefix}order:2`))!)).toEqual({ id: 2, total: 99 });
    expect((await committedOffsets(testKafka(), group, dlq)).get(0)).toBe(3n);

    const after = await runCli(['dead-letters', 'list', dest()]);
    expect(after.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^${dlq}/0@3\\t${source}/0@43\\t\\[E_BAD_JSON\\]`)),
    ]);
    const all = await runCli(['dead-letters', 'list', dest(), '--from-beginning']);
    expect(all.stdout.trim().split('\n')).toHaveLength(4);
  });
});
