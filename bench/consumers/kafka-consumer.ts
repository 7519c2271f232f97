/**
 * Benchmark of the Kafka consumer against the real services of the harness (infra/local). The load
 * (Kafka producer, PostgreSQL writer) runs in a separate process (bench/consumers/producer.ts), so
 * this process is the consumer alone and `node --cpu-prof` profiles only the consumer.
 *
 *   node bench/consumers/kafka-consumer.ts --mode throughput --events 200000 --partitions 4 --target valkey://127.0.0.1:16379
 *   node bench/consumers/kafka-consumer.ts --mode latency --rate 10000 --seconds 10 --target valkey://127.0.0.1:16379
 *   node bench/consumers/kafka-consumer.ts --mode db-latency --rate 200 --seconds 10 --target valkey://127.0.0.1:16379
 *
 * throughput: the topic is filled first (other process), then the consumer drains it; events/s =
 *   records resolved (applied and acknowledged) / wall time from the first resolve to the last (the
 *   group join is printed apart). Peer, same run, same server: `valkey-benchmark` pipelined DEL
 *   (-P 64) on as many random keys; the ratio is ours / peer.
 * latency: the topic stamps records with the broker's append time (message.timestamp.type =
 *   LogAppendTime); the other process appends --rate events/s; per record, latency = the time its
 *   offset was resolved (target acknowledged) − its append time. p50/p90/p99/max (ms resolution of
 *   Kafka timestamps: ±1 ms). Peer, same run, same rate: the client alone through the same adapter,
 *   with an eachBatch that only resolves (the floor the client and broker set at that moment).
 * db-latency: the other process UPDATEs rows of PostgreSQL `public.customers` at --rate commits/s;
 *   Debezium (Kafka Connect, connector with topic prefix $CDC_CACHE_DEBEZIUM_PLAIN_PREFIX) publishes
 *   them; per event, latency = the time its offset was resolved (the target acknowledged the
 *   invalidation/refresh) − the commit time Debezium reports (`source.ts_us`); also split at the
 *   Kafka record's timestamp into the Debezium/Connect part and the consumer part.
 * --client kafkajs|platformatic (default kafkajs): the Kafka client adapter under test (metric names
 *   of the platformatic client end in "(platformatic client)"; the latency peer is that client alone).
 * Options: --no-peer skips the peer; --chunk-size, --max-bytes-per-partition, --max-bytes and
 *   --max-wait-ms set the consumer's tuning knobs. Every line ends with the load average.
 * Values are Debezium JSON (no schemas) of a customers row over --keys distinct ids
 * (bench/consumers/load-records.ts): the first --keys records create the rows (~500 bytes), later
 * ones update them with the full old image (~650 bytes), as REPLICA IDENTITY FULL captures.
 * A dead letter fails the run at once (every record of the load must plan), and so does a
 * throughput run in which no record is resolved for 60 s; the topics are deleted either way.
 * `--write` appends the result to bench/results/consumers.md; env CDC_CACHE_BENCH_JSON=<file>
 * appends one JSON line per result (`{"bench":"consumers","metric",…}`).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { openTarget } from '../../bin/targets.ts';
import { createKafkaCdcConsumer, type KafkaCdcConsumer } from '../../consumers/kafka/kafka-cdc-consumer.ts';
import type { KafkaConsumerPort, KafkaMessage } from '../../consumers/kafka/kafka-port.ts';
import { createKafkajsClient } from '../../consumers/kafka/kafkajs-client.ts';
import { createPlatformaticClient } from '../../consumers/kafka/platformatic-client.ts';
import { createConsumerMetrics } from '../../consumers/runtime/consumer-metrics.ts';
import { silentLogger } from '../../consumers/runtime/logger.ts';
import { compileConfig } from '../../core/rules/compile.ts';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { type BenchResult, emitResult } from '../suite.ts';
import { PHASES, startCpuBreakdown } from './cpu-breakdown.ts';
import { BENCH_RULES } from './load-records.ts';

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
    peer: { type: 'boolean', default: true },
    write: { type: 'boolean', default: false },
  },
});
const brokers = values.brokers.split(',');
if (values.client !== 'kafkajs' && values.client !== 'platformatic')
  throw new Error(`--client ${values.client}: use kafkajs or platformatic`);
const clientName = values.client;
/** The adapter under test. */
const makeClient = () =>
  clientName === 'platformatic' ? createPlatformaticClient({ brokers }) : createKafkajsClient({ brokers });
/** Suffix of metric names: none for kafkajs (the history), " (platformatic client)" otherwise. */
const clientSuffix = clientName === 'kafkajs' ? '' : ` (${clientName} client)`;
const partitions = Number(values.partitions);
const keys = Number(values.keys);
const command = `node bench/consumers/kafka-consumer.ts ${process.argv
  .slice(2)
  .filter((a) => a !== '--write')
  .join(' ')}`;
const kafka = new Kafka({ brokers, clientId: 'cdc-cache-bench', logLevel: logLevel.NOTHING });
const config = compileConfig(BENCH_RULES);

/** Results of this run: appended as JSON lines to $CDC_CACHE_BENCH_JSON when set (bench/suite.ts). */
const results: Omit<BenchResult, 'bench' | 'command'>[] = [];
/** Topics this run created (deleted at the end). */
const created: string[] = [];
const lines: string[] = [];
/** The first dead letter of this run (fails the run: every record of the load must plan). */
let deadLettered: Error | undefined;
/** Fails the run after this long without a record resolved while records are still expected. */
const NO_PROGRESS_MS = 60_000;

/**
 * Waits until `done()`; throws on a dead letter, or when `progress()` has not moved for
 * {@link NO_PROGRESS_MS} (a stuck run fails with what it saw instead of hanging).
 */
async function waitFor(done: () => boolean, progress: () => number, what: string): Promise<void> {
  let seen = progress();
  let movedAt = Date.now();
  while (!done()) {
    if (deadLettered) throw deadLettered;
    if (progress() !== seen) {
      seen = progress();
      movedAt = Date.now();
    } else if (Date.now() - movedAt > NO_PROGRESS_MS) {
      throw new Error(`${what}: no progress for ${NO_PROGRESS_MS / 1000} s at ${seen}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs the load process; resolves with its final JSON line. */
function load(args: string[]): { child: ChildProcess; done: Promise<Record<string, unknown>> } {
  const child = spawn(process.execPath, [new URL('./producer.ts', import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<Record<string, unknown>>((resolve, reject) => {
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as Record<string, unknown>);
      else reject(new Error(`load process (producer.ts ${args.join(' ')}) exited with ${code}: ${out}`));
    });
  });
  return { child, done };
}

/** Wraps our port so every resolveOffset is observed with the messages it covers. */
function observed(
  port: KafkaConsumerPort,
  onResolve: (messages: readonly KafkaMessage[], at: number) => void,
): KafkaConsumerPort {
  return {
    ...port,
    run: (o) =>
      port.run({
        ...o,
        eachBatch: (batch, c) => {
          let from = 0;
          return o.eachBatch(batch, {
            ...c,
            resolveOffset(offset) {
              const at = performance.timeOrigin + performance.now();
              let to = from;
              while (to < batch.messages.length && batch.messages[to]!.offset !== offset) to++;
              onResolve(batch.messages.slice(from, to + 1), at);
              from = to + 1;
              c.resolveOffset(offset);
            },
          });
        },
      }),
  };
}

function portOptions(groupId: string): Parameters<ReturnType<typeof makeClient>['consumer']>[0] {
  const o: Parameters<ReturnType<typeof makeClient>['consumer']>[0] = { groupId };
  if (values['max-bytes-per-partition'] !== undefined)
    o.maxBytesPerPartition = Number(values['max-bytes-per-partition']);
  if (values['max-bytes'] !== undefined) o.maxBytes = Number(values['max-bytes']);
  if (values['max-wait-ms'] !== undefined) o.maxWaitTimeMs = Number(values['max-wait-ms']);
  return o;
}

function consumerFor(port: KafkaConsumerPort, topic: string, target: CacheTarget): KafkaCdcConsumer {
  const o: Parameters<typeof createKafkaCdcConsumer>[0] = {
    consumer: port,
    topics: [topic],
    partitionsConsumedConcurrently: partitions,
    config,
    target,
    deadLetter: async (d) => {
      // Every record of the load plans: a dead letter is a broken benchmark. The consumer retries
      // a failing dead-letter sink forever (it never skips a record), so the run is failed here
      // instead of waiting on a partition that cannot move.
      deadLettered ??= new Error(`dead letter in benchmark at ${d.position} (${d.code}): ${d.reason}`);
      throw deadLettered;
    },
    metrics: createConsumerMetrics(),
    logger: silentLogger,
  };
  if (values['chunk-size'] !== undefined) o.chunkSize = Number(values['chunk-size']);
  return createKafkaCdcConsumer(o);
}

async function joined(consumer: KafkaCdcConsumer): Promise<void> {
  const until = Date.now() + 60_000;
  while (consumer.state.assigned === null || consumer.state.assigned === 0) {
    if (Date.now() > until) throw new Error('consumer did not join the group within 60 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function latencyLine(label: string, latencies: number[], expected: number): string {
  latencies.sort((a, b) => a - b);
  const [p50, p90, p99] = [pct(latencies, 50), pct(latencies, 90), pct(latencies, 99)];
  const what =
    values.mode === 'latency'
      ? `Kafka append → applied (${values.target.replace(/\/\/.*@/, '//')}), ${values.rate} events/s`
      : `PostgreSQL commit → applied via Debezium (${values.target.replace(/\/\/.*@/, '//')}), ${values.rate} commits/s`;
  const note = `${latencies.length}/${expected} measured, ${partitions} partitions, ${clientName} client`;
  results.push(
    { metric: `${what} p50${clientSuffix}`, value: round2(p50), unit: 'ms', better: 'lower', note },
    {
      metric: `${what} p99${clientSuffix}`,
      value: round2(p99),
      unit: 'ms',
      better: 'lower',
      note,
      ...(values.mode === 'latency' && Number(values.rate) === 10_000 ? { target: 10 } : {}),
    },
  );
  return (
    `${label}: p50 ${p50.toFixed(2)} ms, p90 ${p90.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, ` +
    `max ${(latencies.at(-1) ?? Number.NaN).toFixed(2)} ms (${latencies.length}/${expected} measured)`
  );
}
const round2 = (x: number) => Math.round(x * 100) / 100;

/** Server time of the APPLY script calls (INFO commandstats, whole server: other clients count too). */
function evalshaUsec(url: URL): { calls: number; usec: number } {
  const info = execFileSync(
    'valkey-cli',
    ['-h', url.hostname, '-p', url.port || '6379', 'INFO', 'commandstats'],
    {
      encoding: 'utf8',
    },
  );
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(info);
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0) };
}

async function throughput(target: CacheTarget): Promise<void> {
  const n = Number(values.events);
  const topic = `bench-consumer-${Date.now()}`;
  created.push(topic);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const produced = await load([
    'fill',
    ...['--topic', topic, '--events', String(n), '--partitions', String(partitions), '--keys', String(keys)],
    ...['--brokers', values.brokers],
  ]).done;
  const url = values.target.startsWith('valkey://') ? new URL(values.target) : undefined;
  const before = url ? evalshaUsec(url) : undefined;
  let first = 0;
  let resolved = 0;
  let last = 0;
  const port = observed(makeClient().consumer(portOptions(`${topic}-g`)), (m, at) => {
    if (first === 0) {
      first = at;
      cpuFirst = process.cpuUsage();
    }
    resolved += m.length;
    last = at;
    if (resolved >= n) cpuLast = process.cpuUsage(cpuFirst);
  });
  let cpuFirst = process.cpuUsage();
  let cpuLast = cpuFirst;
  const consumer = consumerFor(port, topic, target);
  const profiler = await startCpuBreakdown();
  const start = performance.timeOrigin + performance.now();
  await consumer.start();
  await waitFor(
    () => resolved >= n,
    () => resolved,
    `${n} events: records resolved`,
  );
  const breakdown = await profiler.stop();
  await consumer.stop();
  const after = url ? evalshaUsec(url) : undefined;
  const rate = n / ((last - first) / 1000);
  let peer: number | null = null;
  let peerName: string | undefined;
  if (url && values.peer) {
    peerName = `valkey-benchmark -P 64 -n ${n} -r ${keys} DEL`;
    const out = execFileSync(
      'valkey-benchmark',
      [
        ...[
          '-h',
          url.hostname,
          '-p',
          url.port || '6379',
          '-n',
          String(n),
          '-r',
          String(keys),
          '-P',
          '64',
          '-q',
        ],
        'DEL',
        'bench:peer:__rand_int__',
      ],
      { encoding: 'utf8' },
    );
    const m = /([\d.]+) requests per second/.exec(out);
    if (!m) throw new Error(`cannot read valkey-benchmark output: ${out}`);
    peer = Number(m[1]);
  }
  const r: (typeof results)[number] = {
    metric: `Kafka → ${target.kind} throughput, ${partitions} partitions, one process${clientSuffix}`,
    value: Math.round(rate),
    unit: 'events/s',
    better: 'higher',
    target: 100_000,
    note: `${n} events over ${keys} keys, 2 ops/event (refresh + invalidate)`,
  };
  if (peer !== null && peerName !== undefined) {
    r.peer = `${peerName} (requests/s, same server)`;
    r.peerValue = Math.round(peer);
    r.ratio = round2(rate / peer);
  }
  results.push(r);
  const server =
    before && after && after.calls > before.calls
      ? `; Valkey server ${((after.usec - before.usec) / n).toFixed(2)} µs/event in APPLY`
      : '';
  lines.push(
    `kafka (${clientName}) → ${target.kind}: ${n} events, ${partitions} partitions, ${keys} keys: ` +
      `${Math.round(rate)} events/s from the first resolve to the last (join+first fetch ` +
      `${((first - start) / 1000).toFixed(2)} s; consumer CPU ${((cpuLast.user + cpuLast.system) / n).toFixed(1)} µs/event; fill ${Number(produced.seconds).toFixed(1)} s in another process${server})`,
  );
  if (peer !== null)
    lines.push(
      `  peer ${peerName}: ${Math.round(peer)} requests/s → ours/peer = ${(rate / peer).toFixed(2)}`,
    );
  // CPU per event with its breakdown: rates move with the machine's load, CPU per event much less.
  const cpuPerEvent = (cpuLast.user + cpuLast.system) / n;
  const parts = PHASES.map(
    (p) =>
      `${p} ${(cpuPerEvent * breakdown.shares[p]).toFixed(1)} (${Math.round(breakdown.shares[p] * 100)} %)`,
  ).join(', ');
  const gcPauses = `GC pauses ${((breakdown.gcMs * 1000) / n).toFixed(1)} µs/event`;
  lines.push(
    `  CPU ${cpuPerEvent.toFixed(1)} µs/event = ${parts}; ${gcPauses} (${breakdown.samples} samples)`,
  );
  results.push({
    metric: `Kafka → ${target.kind} consumer CPU per event, one process${clientSuffix}`,
    value: round2(cpuPerEvent),
    unit: 'µs/event',
    better: 'lower',
    note: `process CPU (all threads) / events, first resolve to last; main-thread profile shares, µs/event: ${parts}; ${gcPauses}`,
  });
  // One row per phase too, so bench/run.ts's summary table shows the breakdown beside the rate.
  for (const p of PHASES) {
    results.push({
      metric: `Kafka → ${target.kind} consumer CPU per event: ${p}${clientSuffix}`,
      value: round2(cpuPerEvent * breakdown.shares[p]),
      unit: 'µs/event',
      better: 'lower',
      note: `${Math.round(breakdown.shares[p] * 100)} % of main-thread busy samples × process CPU per event`,
    });
  }
}

/** A topic whose records carry the broker's append time. */
async function appendTimeTopic(): Promise<string> {
  const topic = `bench-consumer-${Date.now()}`;
  created.push(topic);
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: partitions,
        configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }],
      },
    ],
    waitForLeaders: true,
  });
  await admin.disconnect();
  return topic;
}

function rateLoad(topic: string): Promise<Record<string, unknown>> {
  return load([
    'rate',
    ...['--topic', topic, '--rate', String(values.rate), '--seconds', String(values.seconds)],
    ...['--partitions', String(partitions), '--keys', String(keys), '--brokers', values.brokers],
  ]).done;
}

/**
 * The peer of the latency mode: the client under test alone, through the same adapter and settings, with an
 * eachBatch that only resolves the batch's last offset (no decode, no target) — the floor the
 * Kafka client and the broker set on this machine at this moment.
 */
async function clientAloneLatency(): Promise<number[]> {
  const topic = await appendTimeTopic();
  const latencies: number[] = [];
  const port = observed(makeClient().consumer(portOptions(`${topic}-g`)), (ms, at) => {
    for (const m of ms) latencies.push(at - Number(m.timestamp));
  });
  let assigned = false;
  port.onGroupJoin(() => {
    assigned = true;
  });
  await port.connect();
  await port.subscribe([topic], true);
  await port.run({
    partitionsConsumedConcurrently: partitions,
    eachBatch: async (batch, c) => {
      const last = batch.messages.at(-1);
      if (last !== undefined) c.resolveOffset(last.offset);
    },
  });
  const until = Date.now() + 60_000;
  while (!assigned && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await rateLoad(topic);
  const total = Number(values.rate) * Number(values.seconds);
  const done = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < done) await new Promise((r) => setTimeout(r, 20));
  await port.stop();
  await port.disconnect();
  return latencies.sort((a, b) => a - b);
}

async function appendLatency(target: CacheTarget): Promise<void> {
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const total = rate * seconds;
  const peer = values.peer ? await clientAloneLatency() : undefined;
  const topic = await appendTimeTopic();
  const latencies: number[] = [];
  /** Per second of append time (from the first record): the latencies, to show the warm-up apart. */
  const bySecond: number[][] = [];
  let firstAppend = 0;
  const port = observed(makeClient().consumer(portOptions(`${topic}-g`)), (ms, at) => {
    for (const m of ms) {
      const ts = Number(m.timestamp);
      latencies.push(at - ts);
      if (firstAppend === 0) firstAppend = ts;
      const sec = Math.max(0, Math.floor((ts - firstAppend) / 1000));
      const list = bySecond[sec] ?? [];
      list.push(at - ts);
      bySecond[sec] = list;
    }
  });
  const consumer = consumerFor(port, topic, target);
  await consumer.start();
  await joined(consumer);
  const produced = await rateLoad(topic);
  const until = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < until) {
    if (deadLettered) throw deadLettered;
    await new Promise((r) => setTimeout(r, 20));
  }
  await consumer.stop();
  lines.push(
    latencyLine(
      `kafka (${clientName}) append → applied (${target.kind}), ${rate} events/s for ${seconds} s (producer: ${Number(produced.seconds).toFixed(1)} s, other process), ${partitions} partitions`,
      latencies,
      total,
    ),
  );
  const p99s = bySecond.map((l) =>
    pct(
      l.sort((a, b) => a - b),
      99,
    ).toFixed(1),
  );
  const warm = bySecond
    .slice(1)
    .flat()
    .sort((a, b) => a - b);
  lines.push(
    `  p99 per second of append time: ${p99s.join(' / ')} ms; without the first second: ` +
      `p50 ${pct(warm, 50).toFixed(2)} ms, p99 ${pct(warm, 99).toFixed(2)} ms (${warm.length} records)`,
  );
  if (peer !== undefined) {
    const [p50, p99] = [pct(peer, 50), pct(peer, 99)];
    const name = `${clientName} alone (same adapter, eachBatch only resolves; no decode, no target)`;
    lines.push(
      `  peer ${name}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (${peer.length}/${total}) → ` +
        `ours/peer p50 ${(pct(latencies, 50) / p50).toFixed(2)}, p99 ${(pct(latencies, 99) / p99).toFixed(2)}`,
    );
    for (const r of results.slice(-2)) {
      const pv = r.metric.includes('p50') ? p50 : p99;
      r.peer = name;
      r.peerValue = round2(pv);
      r.ratio = round2(r.value / pv);
    }
  }
}

async function dbLatency(target: CacheTarget): Promise<void> {
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const total = rate * seconds;
  const topic = `${values['topic-prefix']}.public.customers`;
  // Rows of our own (the table is shared with other tests): a range per run.
  const base = 5_000_000 + ((process.pid * 7919 + Date.now()) % 4_000_000);
  const rows = Math.min(keys, 1000);
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: values['pg-url'] });
  await db.connect();
  await db.query(
    `INSERT INTO public.customers (id, email, name) SELECT g, 'bench' || g || '@example.com', 'bench'
     FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT (id) DO NOTHING`,
    [base, base + rows - 1],
  );
  // On freshly started services Debezium creates the topic with the first change (the insert above).
  const admin = kafka.admin();
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
      makeClient().consumer({ ...portOptions(`bench-db-latency-${Date.now()}`) }),
      (ms, at) => {
        for (const message of ms) measured.push({ message, at });
      },
    );
    const consumer = createKafkaCdcConsumer({
      consumer: port,
      topics: [topic],
      fromBeginning: false,
      partitionsConsumedConcurrently: partitions,
      config,
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
      ...['--pg-url', values['pg-url'], '--rate', String(rate), '--seconds', String(seconds)],
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
  lines.push(
    latencyLine(
      `PostgreSQL commit → applied (${target.kind}) via Debezium ${topic}, ${rate} commits/s for ${seconds} s ` +
        `(writer: ${Number(produced.seconds).toFixed(1)} s, other process)`,
      latencies,
      total,
    ),
  );
  toAppend.sort((a, b) => a - b);
  fromAppend.sort((a, b) => a - b);
  lines.push(
    `  of which commit → Kafka record timestamp (Debezium, Connect producer): p50 ${pct(toAppend, 50).toFixed(1)} ms, p99 ${pct(toAppend, 99).toFixed(1)} ms; ` +
      `record timestamp → applied (consumer): p50 ${pct(fromAppend, 50).toFixed(1)} ms, p99 ${pct(fromAppend, 99).toFixed(1)} ms`,
  );
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const target = await openTarget(values.target);
  try {
    if (values.mode === 'throughput') await throughput(target);
    else if (values.mode === 'latency') await appendLatency(target);
    else if (values.mode === 'db-latency') await dbLatency(target);
    else throw new Error(`--mode ${values.mode}: use throughput, latency or db-latency`);
  } finally {
    await target.close();
    await deleteCreatedTopics();
  }
  const load = `load ${loadBefore.toFixed(2)} → ${loadavg()[0]!.toFixed(2)}`;
  lines.push(`  (${load}; ${command})`);
  console.log(lines.join('\n'));
  for (const r of results) {
    emitResult({ bench: 'consumers', command, ...r, note: `${r.note ?? ''}; ${load}`.replace(/^; /, '') });
  }
  if (values.write) {
    appendFileSync(
      new URL('../results/consumers.md', import.meta.url),
      `\n- ${new Date().toISOString().slice(0, 10)} \`${command}\`:\n  ${lines.join('\n  ')}\n`,
    );
  }
}

/** Deletes the topics this run created (also after a failed run: the broker is shared). */
async function deleteCreatedTopics(): Promise<void> {
  if (created.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: created }).catch(() => {});
  await admin.disconnect();
}

// A failed run exits at once: a consumer still connected would keep the process alive.
await main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
