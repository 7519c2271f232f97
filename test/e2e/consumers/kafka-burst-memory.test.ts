/**
 * Bounded memory under a burst (issue 20): a backlog far larger than the consumer may hold — 4,800
 * Debezium records of ~100 KB each (~480 MB) on 4 partitions of the harness's Kafka — is drained by
 * the Kafka consumer (platformatic client) into the harness's Valkey. The adapter holds at most
 * `maxBufferedBytes` of messages, queued or in a batch, plus the fetch responses in flight when the
 * stream pauses (consumers/README.md, "Memory under a burst"); a bound by message count alone would
 * have let the whole backlog in (20,000 messages ≥ 4,800). The target is made slower than the fetch
 * (each apply waits first), so the backlog piles up on the consumer's side unless it is bounded. RSS is sampled every 20 ms while the
 * backlog drains: its growth over the baseline must stay under the documented bound, and at the end
 * every record is applied and committed (lag 0).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaCdcConsumer } from '../../../consumers/kafka/kafka-cdc-consumer.ts';
import { createPlatformaticClient } from '../../../consumers/kafka/platformatic-client.ts';
import { createConsumerMetrics } from '../../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../../consumers/runtime/logger.ts';
import { compileConfig } from '../../../core/rules/compile.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../../core/targets/valkey/valkey-target.ts';
import { requireServices, serviceEnv } from '../../setup/require-services.ts';
import {
  committedOffsets,
  createTopic,
  highWatermarks,
  testKafka,
  waitFor,
} from '../../support/consumers.ts';

const suffix = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const topic = `e2e-burst-${suffix}`;
const groupId = `e2e-burst-${suffix}`;
const prefix = `burst:${suffix}:`;
const N = 4800;
const VALUE_BYTES = 100_000;
const MiB = 1024 * 1024;
/** The adapter's tuning under test (smaller than the defaults so the backlog is many times it). */
const TUNING = { maxBufferedBytes: 8 * MiB, maxBatchBytes: 2 * MiB };
/** Delay before each apply: the consumer drains slower than Kafka delivers. */
const SLOW_APPLY_MS = 150;
/** The fetch size (platformatic default maxBytes): what may arrive while the stream pauses. */
const FETCH_MAX_BYTES = 10 * MiB;
/**
 * The documented bound on RSS growth (consumers/README.md, "Memory under a burst"): what the adapter
 * holds and its decoded copies (3 × maxBufferedBytes), two fetch responses, and 320 MiB of runtime
 * and GC headroom. The headroom is what V8's heap grows by under this allocation rate whatever the
 * byte bound (measured 230–250 MiB with 8 and with 16 MiB held); without the byte bound the same
 * run grew by 743 MiB (the whole 480 MB backlog fetched ahead).
 */
const BOUND = 3 * TUNING.maxBufferedBytes + 2 * FETCH_MAX_BYTES + 320 * MiB;

let target: ValkeyTarget;

beforeAll(async () => {
  requireServices('kafka', 'valkey');
  target = await createValkeyTarget({ url: serviceEnv('CDC_CACHE_VALKEY_URL') });
  await createTopic(testKafka(), topic, 4);
  // Another process produces, so this one's RSS baseline holds none of the backlog.
  execFileSync(
    process.execPath,
    [
      new URL('../../support/burst-producer.ts', import.meta.url).pathname,
      serviceEnv('CDC_CACHE_KAFKA_BROKERS'),
      topic,
      String(N),
      String(VALUE_BYTES),
    ],
    { stdio: 'inherit', timeout: 280_000 },
  );
}, 300_000);

afterAll(async () => {
  await target?.apply([{ kind: 'invalidatePrefix', prefix, version: '9'.repeat(30) }]).catch(() => {});
  await target?.close();
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

describe('Kafka consumer under a burst', () => {
  it('drains a backlog many times its byte bound with RSS growth under the documented bound, to lag 0', async () => {
    const client = createPlatformaticClient(
      { brokers: serviceEnv('CDC_CACHE_KAFKA_BROKERS').split(',') },
      TUNING,
    );
    const consumer = createKafkaCdcConsumer({
      consumer: client.consumer({ groupId, maxWaitTimeMs: 200 }),
      topics: [topic],
      partitionsConsumedConcurrently: 4,
      config: compileConfig({
        keyPrefix: prefix,
        rules: [{ table: 'public.customers', keys: ['customer:{id}'], refresh: { fields: ['id', 'name'] } }],
      }),
      // The burst: a target slower than the fetch (each apply waits SLOW_APPLY_MS first, as a
      // loaded Valkey would), so the backlog piles up on the consumer's side unless it is bounded.
      target: {
        kind: target.kind,
        apply: async (ops) => {
          await new Promise((r) => setTimeout(r, SLOW_APPLY_MS));
          return target.apply(ops);
        },
        get: (k) => target.get(k),
        dump: () => target.dump(),
        close: async () => {},
      },
      deadLetter: async (d) => {
        throw new Error(`unexpected dead letter: ${d.reason}`);
      },
      metrics: createConsumerMetrics(),
      logger: silentLogger,
    });
    await new Promise((r) => setTimeout(r, 200));
    const baseline = process.memoryUsage.rss();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 20);
    try {
      await consumer.start();
      await waitFor('the backlog to drain', () => consumer.state.records >= N, 240_000, 50);
    } finally {
      clearInterval(sampler);
      await consumer.stop();
    }
    const growth = peak - baseline;
    console.log(
      `burst: ${N} records × ${VALUE_BYTES} B; RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, growth ${(growth / MiB).toFixed(0)} MiB (bound ${(BOUND / MiB).toFixed(0)} MiB)`,
    );
    expect(consumer.state.records).toBe(N);
    expect(consumer.state.deadLetters).toBe(0);
    expect(consumer.state.lag).toBe(0);
    expect(growth).toBeLessThanOrEqual(BOUND);
    // Everything committed: the group's offsets are the partitions' ends.
    const high = await highWatermarks(testKafka(), topic);
    expect(await committedOffsets(testKafka(), groupId, topic)).toEqual(high);
    expect(await target.get(`${prefix}customer:7`)).toContain('Customer 7');
  }, 300_000);
});
