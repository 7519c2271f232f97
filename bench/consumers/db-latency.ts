/**
 * db-latency mode of the consumer benchmark: the load process UPDATEs rows of PostgreSQL
 * `public.customers` at --rate commits/s; Debezium (Kafka Connect, the connector with topic prefix
 * --topic-prefix) publishes them; per event, latency = the time its offset was resolved (the target
 * acknowledged the invalidation/refresh) − the commit time Debezium reports (`source.ts_us`); also
 * split at the Kafka record's timestamp into the Debezium/Connect part and the consumer part.
 * The rows are this run's own (the table is shared) and are deleted at the end, even on failure.
 */
import { createKafkaCdcConsumer } from '../../consumers/kafka/kafka-cdc-consumer.ts';
import type { KafkaMessage } from '../../consumers/kafka/kafka-port.ts';
import { createConsumerMetrics } from '../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../consumers/runtime/logger.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { type BenchRun, joined } from './bench-run.ts';
import { latencyLine, pct } from './latency-stats.ts';
import { load } from './load-process.ts';
import { observed } from './observed-port.ts';

/** Runs the db-latency mode into `target`; adds its results and lines to `run`. */
export async function dbLatency(run: BenchRun, target: CacheTarget): Promise<void> {
  const { rate, seconds, keys, partitions, pgUrl } = run.options;
  const total = rate * seconds;
  const topic = `${run.options.topicPrefix}.public.customers`;
  // Rows of our own (the table is shared with other tests): a range per run.
  const base = 5_000_000 + ((process.pid * 7919 + Date.now()) % 4_000_000);
  const rows = Math.min(keys, 1000);
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(
    `INSERT INTO public.customers (id, email, name) SELECT g, 'bench' || g || '@example.com', 'bench'
     FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT (id) DO NOTHING`,
    [base, base + rows - 1],
  );
  // On freshly started services Debezium creates the topic with the first change (the insert above).
  const admin = run.kafka.admin();
  await admin.connect();
  try {
    for (let i = 0; !(await admin.listTopics()).includes(topic); i++) {
      if (i >= 600)
        throw new Error(`${topic} did not appear within 60 s: is the Debezium connector running?`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
  const latencies: number[] = [];
  const toAppend: number[] = [];
  const fromAppend: number[] = [];
  let produced: Record<string, unknown> = {};
  try {
    const measured: { message: KafkaMessage; at: number }[] = [];
    const port = observed(
      run.makeClient().consumer(run.portOptions(`bench-db-latency-${Date.now()}`)),
      (ms, at) => {
        for (const message of ms) measured.push({ message, at });
      },
    );
    const consumer = createKafkaCdcConsumer({
      consumer: port,
      topics: [topic],
      fromBeginning: false,
      partitionsConsumedConcurrently: partitions,
      config: run.config,
      target,
      deadLetter: async () => {},
      metrics: createConsumerMetrics(),
      logger: silentLogger,
    });
    await consumer.start();
    await joined(consumer);
    await new Promise((r) => setTimeout(r, 1000)); // the first fetch positions at the end
    const loader = load([
      'pg',
      ...['--pg-url', pgUrl, '--rate', String(rate), '--seconds', String(seconds)],
      ...['--id-base', String(base), '--keys', String(rows)],
    ]);
    produced = await loader.done;
    const ours = (m: KafkaMessage) => {
      if (m.value === null) return undefined;
      const v = JSON.parse(m.value.toString('utf8')) as {
        after?: { id?: number; name?: string } | null;
        source?: { ts_us?: number; ts_ms?: number };
      };
      const id = Number(v.after?.id);
      if (!(id >= base && id < base + rows) || !v.after?.name?.startsWith('bench ')) return undefined;
      return v.source?.ts_us !== undefined ? v.source.ts_us / 1000 : v.source?.ts_ms;
    };
    let seen = 0;
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      for (; seen < measured.length; seen++) {
        const { message, at } = measured[seen]!;
        const committed = ours(message);
        if (committed === undefined) continue;
        latencies.push(at - committed);
        toAppend.push(Number(message.timestamp) - committed);
        fromAppend.push(at - Number(message.timestamp));
      }
      if (latencies.length >= total) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await consumer.stop();
  } finally {
    // The rows are ours alone; leave the shared table as it was even when the run fails.
    await db.query('DELETE FROM public.customers WHERE id BETWEEN $1 AND $2', [base, base + rows - 1]);
    await db.end();
  }
  run.lines.push(
    latencyLine(
      run,
      `PostgreSQL commit → applied (${target.kind}) via Debezium ${topic}, ${rate} commits/s for ${seconds} s ` +
        `(writer: ${Number(produced.seconds).toFixed(1)} s, other process)`,
      latencies,
      total,
    ),
  );
  toAppend.sort((a, b) => a - b);
  fromAppend.sort((a, b) => a - b);
  run.lines.push(
    `  of which commit → Kafka record timestamp (Debezium, Connect producer): p50 ${pct(toAppend, 50).toFixed(1)} ms, p99 ${pct(toAppend, 99).toFixed(1)} ms; ` +
      `record timestamp → applied (consumer): p50 ${pct(fromAppend, 50).toFixed(1)} ms, p99 ${pct(fromAppend, 99).toFixed(1)} ms`,
  );
}
