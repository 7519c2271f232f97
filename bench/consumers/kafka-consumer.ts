/**
 * Benchmark of the Kafka consumer against the real services of the harness (infra/local). The load
 * (Kafka producer, PostgreSQL writer) runs in a separate process (bench/consumers/producer.ts), so
 * this process is the consumer alone and `node --cpu-prof` profiles only the consumer.
 *
 *   node bench/consumers/kafka-consumer.ts --mode throughput --events 200000 --partitions 4 --target valkey://127.0.0.1:16379
 *   node bench/consumers/kafka-consumer.ts --mode latency --rate 10000 --seconds 10 --target valkey://127.0.0.1:16379
 *   node bench/consumers/kafka-consumer.ts --mode db-latency --rate 200 --seconds 10 --target valkey://127.0.0.1:16379
 *
 * Modes, one file each: throughput.ts (rate, CPU per event and its breakdown, peer pipelined DEL),
 * append-latency.ts (Kafka append → applied at --rate, peer the client alone), db-latency.ts
 * (PostgreSQL commit → applied through Debezium). What they share: bench-run.ts.
 * --client kafkajs|platformatic (default kafkajs): the Kafka client adapter under test (metric names
 *   of the platformatic client end in "(platformatic client)"; the latency peer is that client alone).
 * Options: --no-peer skips the peer; --chunk-size, --max-bytes-per-partition, --max-bytes and
 *   --max-wait-ms set the consumer's tuning knobs, --max-buffered-messages and --max-batch-messages
 *   the platformatic adapter's (PlatformaticTuning). Every line ends with the load average.
 * Values are Debezium JSON (no schemas) of a customers row over --keys distinct ids
 * (bench/consumers/load-records.ts): the first --keys records create the rows (~500 bytes), later
 * ones update them with the full old image (~650 bytes), as REPLICA IDENTITY FULL captures.
 * A dead letter fails the run at once (every record of the load must plan), and so does a
 * throughput run in which no record is resolved for 60 s; the topics are deleted either way.
 * `--write` appends the result to bench/results/consumers.md; env CDC_CACHE_BENCH_JSON=<file>
 * appends one JSON line per result (`{"bench":"consumers","metric",…}`).
 */
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { openTarget } from '../../bin/targets.ts';
import { emitResult } from '../suite.ts';
import { appendLatency } from './append-latency.ts';
import { type BenchOptions, BenchRun } from './bench-run.ts';
import { dbLatency } from './db-latency.ts';
import { throughput } from './throughput.ts';

const { values } = parseArgs({
  allowNegative: true,
  options: {
    mode: { type: 'string', default: 'throughput' },
    client: { type: 'string', default: 'kafkajs' },
    events: { type: 'string', default: '200000' },
    partitions: { type: 'string', default: '4' },
    keys: { type: 'string', default: '50000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '10' },
    target: { type: 'string', default: 'engine' },
    brokers: { type: 'string', default: process.env.CDC_CACHE_KAFKA_BROKERS ?? '127.0.0.1:19092' },
    'pg-url': {
      type: 'string',
      default: process.env.CDC_CACHE_PG_URL ?? 'postgres://cdc:cdc-local-only-secret@127.0.0.1:15432/cdc',
    },
    'topic-prefix': { type: 'string', default: process.env.CDC_CACHE_DEBEZIUM_PLAIN_PREFIX ?? 'dbz_plain' },
    'chunk-size': { type: 'string' },
    'max-bytes-per-partition': { type: 'string' },
    'max-bytes': { type: 'string' },
    'max-wait-ms': { type: 'string' },
    'max-buffered-messages': { type: 'string' },
    'max-batch-messages': { type: 'string' },
    peer: { type: 'boolean', default: true },
    write: { type: 'boolean', default: false },
  },
});
if (values.client !== 'kafkajs' && values.client !== 'platformatic')
  throw new Error(`--client ${values.client}: use kafkajs or platformatic`);
const options: BenchOptions = {
  mode: values.mode,
  client: values.client,
  events: Number(values.events),
  partitions: Number(values.partitions),
  keys: Number(values.keys),
  rate: Number(values.rate),
  seconds: Number(values.seconds),
  target: values.target,
  brokers: values.brokers,
  pgUrl: values['pg-url'],
  topicPrefix: values['topic-prefix'],
  peer: values.peer,
};
if (values['chunk-size'] !== undefined) options.chunkSize = Number(values['chunk-size']);
if (values['max-bytes-per-partition'] !== undefined)
  options.maxBytesPerPartition = Number(values['max-bytes-per-partition']);
if (values['max-bytes'] !== undefined) options.maxBytes = Number(values['max-bytes']);
if (values['max-wait-ms'] !== undefined) options.maxWaitMs = Number(values['max-wait-ms']);
if (values['max-buffered-messages'] !== undefined)
  options.maxBufferedMessages = Number(values['max-buffered-messages']);
if (values['max-batch-messages'] !== undefined)
  options.maxBatchMessages = Number(values['max-batch-messages']);
const command = `node bench/consumers/kafka-consumer.ts ${process.argv
  .slice(2)
  .filter((a) => a !== '--write')
  .join(' ')}`;

async function main(): Promise<void> {
  const run = new BenchRun(options);
  const loadBefore = loadavg()[0]!;
  const target = await openTarget(options.target);
  try {
    if (options.mode === 'throughput') await throughput(run, target);
    else if (options.mode === 'latency') await appendLatency(run, target);
    else if (options.mode === 'db-latency') await dbLatency(run, target);
    else throw new Error(`--mode ${options.mode}: use throughput, latency or db-latency`);
  } finally {
    await target.close();
    await run.deleteCreatedTopics();
  }
  const load = `load ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`;
  run.lines.push(`  (${load}; ${command})`);
  console.log(run.lines.join('\n'));
  for (const r of run.results) {
    emitResult({ bench: 'consumers', command, ...r, note: `${r.note ?? ''}; ${load}`.replace(/^; /, '') });
  }
  if (values.write) {
    appendFileSync(
      new URL('../results/consumers.md', import.meta.url),
      `\n- ${new Date().toISOString().slice(0, 10)} \`${command}\`:\n  ${run.lines.join('\n  ')}\n`,
    );
  }
}

// A failed run exits at once: a consumer still connected would keep the process alive.
await main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
