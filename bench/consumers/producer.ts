/**
 * The load side of bench/consumers/kafka-consumer.ts, run as a separate process so the consumer
 * process measures the consumer only (started by the benchmark; not meant to be run by hand).
 *
 *   node bench/consumers/producer.ts fill  --topic T --events N --partitions P --keys K
 *   node bench/consumers/producer.ts rate  --topic T --rate R --seconds S --partitions P --keys K
 *   node bench/consumers/producer.ts pg    --pg-url URL --rate R --seconds S --id-base B --keys K
 *
 * fill: appends N Debezium-shaped values (bench/consumers/load-records.ts: a `public.customers`
 *   row, no schemas; updates carry the full old image) as fast as the broker takes them.
 *   rate: appends R events/s in 10 ms slices (acks=1). pg: UPDATEs rows `id-base .. id-base+K-1`
 *   of the harness's PostgreSQL `public.customers` (each in its own transaction, from 4 connections)
 *   at R commits/s; Debezium turns them into the change events.
 * Prints one JSON line `{"done":true,…}` on stdout when finished.
 */
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { patchKafkajsRequestQueue } from '../../consumers/kafka/kafkajs-client.ts';
import { loadRecord } from './load-records.ts';

patchKafkajsRequestQueue();

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    topic: { type: 'string', default: '' },
    events: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '4' },
    keys: { type: 'string', default: '50000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    brokers: { type: 'string', default: process.env.CDC_CACHE_KAFKA_BROKERS ?? '127.0.0.1:19092' },
    'pg-url': { type: 'string', default: '' },
    'id-base': { type: 'string', default: '0' },
  },
});
const mode = positionals[0] ?? 'fill';
const partitions = Number(values.partitions);
const keys = Number(values.keys);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function kafkaMode(): Promise<Record<string, unknown>> {
  const kafka = new Kafka({
    brokers: values.brokers.split(','),
    clientId: 'cdc-cache-bench-producer',
    logLevel: logLevel.NOTHING,
  });
  const producer = kafka.producer();
  await producer.connect();
  const topic = values.topic;
  const t0 = performance.now();
  let sent = 0;
  if (mode === 'fill') {
    const n = Number(values.events);
    const inflight: Promise<unknown>[] = [];
    for (let i = 0; i < n; i += 5000) {
      const messages: { key: string; value: string; partition: number }[] = [];
      for (let j = i; j < Math.min(n, i + 5000); j++)
        messages.push({ ...loadRecord(j, keys), partition: j % partitions });
      inflight.push(producer.send({ topic, messages, acks: 1 }));
      if (inflight.length >= 4) await inflight.shift();
      sent += messages.length;
    }
    await Promise.all(inflight);
  } else {
    const rate = Number(values.rate);
    const total = rate * Number(values.seconds);
    const perSlice = Math.max(1, Math.round(rate / 100));
    const sends: Promise<unknown>[] = [];
    while (sent < total) {
      const wait = t0 + (sent / rate) * 1000 - performance.now();
      if (wait > 0) await sleep(wait);
      const messages: { key: string; value: string; partition: number }[] = [];
      for (let j = 0; j < perSlice && sent < total; j++, sent++)
        messages.push({ ...loadRecord(sent, keys), partition: sent % partitions });
      sends.push(producer.send({ topic, messages, acks: 1 }));
    }
    await Promise.all(sends);
  }
  const seconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  return { sent, seconds };
}

async function pgMode(): Promise<Record<string, unknown>> {
  const { default: pg } = await import('pg');
  const base = Number(values['id-base']);
  const rate = Number(values.rate);
  const total = rate * Number(values.seconds);
  const clients = await Promise.all(
    [0, 1, 2, 3].map(async () => {
      const c = new pg.Client({ connectionString: values['pg-url'] });
      await c.connect();
      return c;
    }),
  );
  const t0 = performance.now();
  let sent = 0;
  let next = 0;
  // 4 connections, each commits its share in order; commit i is due at t0 + i/rate.
  await Promise.all(
    clients.map(async (c) => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const wait = t0 + (i / rate) * 1000 - performance.now();
        if (wait > 0) await sleep(wait);
        await c.query('UPDATE public.customers SET name = $2, updated_at = clock_timestamp() WHERE id = $1', [
          base + (i % keys),
          `bench ${i}`,
        ]);
        sent++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(clients.map((c) => c.end()));
  return { sent, seconds };
}

const result = mode === 'pg' ? await pgMode() : await kafkaMode();
process.stdout.write(`${JSON.stringify({ done: true, mode, ...result })}\n`);
