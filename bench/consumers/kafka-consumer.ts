/**
 * Benchmark of the Kafka consumer against the real broker of the harness (infra/local):
 *
 *   node bench/consumers/kafka-consumer.ts --mode throughput --events 200000 --partitions 4 --target engine
 *   node bench/consumers/kafka-consumer.ts --mode throughput --events 200000 --target valkey://127.0.0.1:16379
 *   node bench/consumers/kafka-consumer.ts --mode latency --rate 10000 --seconds 10 --target valkey://127.0.0.1:16379
 *
 * throughput: the topic is filled first, then one consumer process drains it; events/s = records
 *   resolved (applied and acknowledged) / wall time from the first fetch to the last resolve.
 * latency: a producer appends at --rate events/s (in 10 ms slices); for every record, latency = the
 *   time its offset was resolved (target acknowledged) − the time the producer's send was acked
 *   (Kafka append). Reports p50/p90/p99/max.
 * Values are Debezium JSON (no schemas) of a customers row, ~500 bytes, over --keys distinct ids.
 * `--write` appends the result to bench/results/consumers.md.
 */
import { appendFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { openTarget } from '../../bin/targets.ts';
import { createKafkaCdcConsumer } from '../../consumers/kafka/kafka-cdc-consumer.ts';
import type { KafkaConsumerPort } from '../../consumers/kafka/kafka-port.ts';
import { createKafkajsClient } from '../../consumers/kafka/kafkajs-client.ts';
import { createConsumerMetrics } from '../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../consumers/runtime/logger.ts';
import { compileConfig } from '../../core/rules/compile.ts';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'throughput' },
    events: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '4' },
    keys: { type: 'string', default: '50000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    target: { type: 'string', default: 'engine' },
    brokers: { type: 'string', default: process.env.CDC_CACHE_KAFKA_BROKERS ?? '127.0.0.1:19092' },
    'chunk-size': { type: 'string', default: '2000' },
    write: { type: 'boolean', default: false },
  },
});
const brokers = values.brokers.split(',');
const partitions = Number(values.partitions);
const keys = Number(values.keys);
const topic = `bench-consumer-${Date.now()}`;
const kafka = new Kafka({ brokers, clientId: 'cdc-cache-bench', logLevel: logLevel.NOTHING });
const config = compileConfig({
  keyPrefix: 'bench:',
  defaults: { ttl: 600 },
  rules: [
    {
      table: 'public.customers',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'email', 'name', 'tier', 'balance'] },
    },
  ],
});

let lsn = 100_000_000;
function message(i: number): { key: string; value: string } {
  const id = i % keys;
  const now = Date.now();
  lsn += 8;
  const row = {
    id,
    email: `user${id}@example.com`,
    name: `Customer ${id}`,
    tier: i % 7 === 0 ? 'gold' : 'free',
    balance: '12.50',
    updated_at: '2026-11-22T20:00:00.000000Z',
  };
  return {
    key: JSON.stringify({ id }),
    value: JSON.stringify({
      before: null,
      after: row,
      source: {
        version: '3.3.1.Final',
        connector: 'postgresql',
        name: 'dbz_plain',
        ts_ms: now,
        snapshot: 'false',
        db: 'cdc',
        sequence: `["${lsn - 8}","${lsn}"]`,
        ts_us: now * 1000,
        ts_ns: now * 1_000_000,
        schema: 'public',
        table: 'customers',
        txId: 1000 + i,
        lsn,
        xmin: null,
      },
      transaction: null,
      op: i < keys ? 'c' : 'u',
      ts_ms: now,
      ts_us: now * 1000,
      ts_ns: now * 1_000_000,
    }),
  };
}

/** Wraps our port so every resolveOffset is observed (latency mode). */
function observed(
  port: KafkaConsumerPort,
  onResolve: (partition: number, offset: bigint, at: number) => void,
): KafkaConsumerPort {
  return {
    ...port,
    run: (o) =>
      port.run({
        ...o,
        eachBatch: (batch, c) =>
          o.eachBatch(batch, {
            ...c,
            resolveOffset(offset) {
              onResolve(batch.partition, BigInt(offset), performance.timeOrigin + performance.now());
              c.resolveOffset(offset);
            },
          }),
      }),
  };
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const target = await openTarget(values.target);
  const metrics = createConsumerMetrics();
  const producer = kafka.producer();
  await producer.connect();
  const client = createKafkajsClient({ brokers });
  let line: string;

  if (values.mode === 'throughput') {
    const n = Number(values.events);
    const t0 = performance.now();
    for (let i = 0; i < n; i += 5000) {
      const messages: { key: string; value: string; partition: number }[] = [];
      for (let j = i; j < Math.min(n, i + 5000); j++)
        messages.push({ ...message(j), partition: j % partitions });
      await producer.send({ topic, messages, acks: 1 });
    }
    const produceS = (performance.now() - t0) / 1000;
    let first = 0;
    const port = observed(client.consumer({ groupId: `${topic}-g` }), () => {
      if (first === 0) first = performance.now();
    });
    const consumer = createKafkaCdcConsumer({
      consumer: port,
      topics: [topic],
      partitionsConsumedConcurrently: partitions,
      chunkSize: Number(values['chunk-size']),
      config,
      target,
      deadLetter: async (d) => {
        throw new Error(`dead letter in benchmark: ${d.reason}`);
      },
      metrics,
      logger: silentLogger,
    });
    const start = performance.now();
    await consumer.start();
    while (consumer.state.records < n) await new Promise((r) => setTimeout(r, 20));
    const end = performance.now();
    await consumer.stop();
    const secs = (end - start) / 1000;
    line =
      `kafka → ${target.kind}: ${n} events, ${partitions} partitions, ${keys} keys: ` +
      `${Math.round(n / secs)} events/s (drain ${secs.toFixed(2)} s incl. group join; ` +
      `${Math.round(n / ((end - first) / 1000))} events/s from the first resolve; produce ${produceS.toFixed(1)} s)`;
  } else {
    const rate = Number(values.rate);
    const seconds = Number(values.seconds);
    const sentAt = new Map<string, number>(); // `${partition}:${offset}` → ack time
    const latencies: number[] = [];
    const resolvedUpTo = new Map<number, bigint>();
    const port = observed(client.consumer({ groupId: `${topic}-g` }), (partition, offset, at) => {
      const from = (resolvedUpTo.get(partition) ?? -1n) + 1n;
      for (let o = from; o <= offset; o++) {
        const k = `${partition}:${o}`;
        const s = sentAt.get(k);
        if (s !== undefined) {
          latencies.push(at - s);
          sentAt.delete(k);
        } else sentAt.set(k, -at); // resolved before the send ack arrived
      }
      resolvedUpTo.set(partition, offset);
    });
    const consumer = createKafkaCdcConsumer({
      consumer: port,
      topics: [topic],
      fromBeginning: true,
      partitionsConsumedConcurrently: partitions,
      config,
      target,
      deadLetter: async () => {},
      metrics,
      logger: silentLogger,
    });
    await consumer.start();
    await new Promise((r) => setTimeout(r, 3000)); // group join
    const sliceMs = 10;
    const perSlice = Math.max(1, Math.round((rate * sliceMs) / 1000));
    const total = rate * seconds;
    let i = 0;
    const t0 = performance.now();
    const sends: Promise<void>[] = [];
    while (i < total) {
      const due = t0 + (i / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const messages: { key: string; value: string; partition: number }[] = [];
      for (let j = 0; j < perSlice && i < total; j++, i++)
        messages.push({ ...message(i), partition: i % partitions });
      sends.push(
        producer.send({ topic, messages, acks: 1 }).then((meta) => {
          const at = performance.timeOrigin + performance.now();
          for (const m of meta) {
            const base = BigInt(m.baseOffset ?? '0');
            const count = messages.filter((x) => x.partition === m.partition).length;
            for (let k = 0n; k < BigInt(count); k++) {
              const key = `${m.partition}:${base + k}`;
              const resolved = sentAt.get(key);
              if (resolved !== undefined && resolved < 0) {
                latencies.push(Math.max(0, -resolved - at));
                sentAt.delete(key);
              } else sentAt.set(key, at);
            }
          }
        }),
      );
    }
    await Promise.all(sends);
    const until = Date.now() + 30_000;
    while (latencies.length < total && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await consumer.stop();
    latencies.sort((a, b) => a - b);
    line =
      `kafka append → applied (${target.kind}), ${rate} events/s for ${seconds} s, ${partitions} partitions: ` +
      `p50 ${pct(latencies, 50).toFixed(2)} ms, p90 ${pct(latencies, 90).toFixed(2)} ms, p99 ${pct(latencies, 99).toFixed(2)} ms, ` +
      `max ${(latencies.at(-1) ?? NaN).toFixed(2)} ms (${latencies.length}/${total} measured)`;
  }
  await producer.disconnect();
  await target.close();
  const admin2 = kafka.admin();
  await admin2.connect();
  await admin2.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin2.disconnect();
  console.log(line);
  if (values.write) {
    const cmd = `node bench/consumers/kafka-consumer.ts ${process.argv
      .slice(2)
      .filter((a) => a !== '--write')
      .join(' ')}`;
    appendFileSync(
      new URL('../results/consumers.md', import.meta.url),
      `\n- ${new Date().toISOString().slice(0, 10)} \`${cmd}\`: ${line}\n`,
    );
  }
}

await main();
