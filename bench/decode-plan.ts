/**
 * Benchmark: decode + plan of Debezium JSON events (~650 bytes each, PostgreSQL envelope without
 * schema, as the JSON converter writes them) vs bare `JSON.parse` of the same bytes, side by side in
 * one process. Prints rates and the ratio, by wall time and by the main thread's CPU time
 * (process.threadCpuUsage: what a loaded machine's preemption does not inflate; CPU µs per event
 * beside each rate); `--write` appends the result to bench/results/decode-plan.md;
 * with CDC_CACHE_BENCH_JSON set it appends one result line there (bench/suite.ts, bench/run.ts).
 *
 *   node bench/decode-plan.ts [--events 200000] [--runs 5] [--write]
 */
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { decodeDebeziumText } from '../core/decode/debezium-text.ts';
import type { ChangeEvent } from '../core/event/change-event.ts';
import { PlanStats } from '../core/plan/plan-stats.ts';
import { planBatch } from '../core/plan/planner.ts';
import { compileConfig } from '../core/rules/compile.ts';
import { emitResult } from './suite.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '5' },
    write: { type: 'boolean', default: false },
  },
});
const N = Number(values.events);
const RUNS = Number(values.runs);

/**
 * One event in the shape Debezium 3.x's PostgreSQL connector writes with the schemaless JSON
 * converter (the fields of test/fixtures/captured), with `ts_us` / `ts_ns` as Debezium 2.6+ adds.
 */
function makeEvent(i: number): string {
  const id = 1000 + (i % 50_000);
  const before =
    i % 3 === 0
      ? null
      : { id, first_name: 'Sally', last_name: 'Thomas', email: `sally.${id}@acme.com`, status: 'active' };
  const after = {
    id,
    first_name: i % 2 ? 'Sally' : 'Sarah',
    last_name: 'Thomas',
    email: `sally.${id}@acme.com`,
    status: 'active',
    score: i % 997,
  };
  const ts = 1732262400000 + i;
  const lsn = 24023128 + i * 2;
  return JSON.stringify({
    before,
    after,
    source: {
      version: '3.0.1.Final',
      connector: 'postgresql',
      name: 'dbserver1',
      ts_ms: ts,
      ts_us: ts * 1000 + 123,
      ts_ns: `${ts * 1000 + 123}456`,
      snapshot: 'false',
      db: 'inventory',
      sequence: `["${lsn}","${lsn + 1}"]`,
      schema: 'public',
      table: 'customers',
      txId: 556 + i,
      lsn: lsn + 1,
      xmin: null,
    },
    transaction: null,
    op: before === null ? 'c' : 'u',
    ts_ms: ts + 7,
    ts_us: (ts + 7) * 1000 + 45,
    ts_ns: `${(ts + 7) * 1000 + 45}678`,
  }).replace(/"ts_ns":"(\d+)"/g, '"ts_ns":$1');
}

const texts = Array.from({ length: N }, (_, i) => makeEvent(i));
const avgBytes = Math.round(texts.reduce((s, t) => s + Buffer.byteLength(t), 0) / N);
const config = compileConfig({
  rules: [
    {
      table: 'public.customers',
      keys: ['customer:{id}', { template: 'customer:email:{email}', action: 'invalidate' }],
      refresh: { fields: ['id', 'first_name', 'last_name', 'email'], ttl: 300, jitter: 0.1 },
      images: 'both', // full old images (REPLICA IDENTITY FULL); the records carry no schema
    },
  ],
});
const BATCH = 500;

/** One timed run: events/s by wall time, and main-thread CPU µs per event. */
interface Run {
  rate: number;
  cpuUs: number;
}

function cpuNow(): number {
  const c = process.threadCpuUsage();
  return c.user + c.system;
}

function runParse(): Run {
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (const t of texts) sink += (JSON.parse(t) as { op: string }).op.length;
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink === 0) throw new Error('unreachable');
  return { rate: (N / ns) * 1e9, cpuUs: (cpuNow() - c0) / N };
}

function runDecodePlan(): Run {
  const c0 = cpuNow();
  const t0 = process.hrtime.bigint();
  let ops = 0;
  const batch: (ChangeEvent | null)[] = [];
  // Counted per rule, as replay and the consumers do (issue 14).
  const stats = new PlanStats(config.rules.length);
  for (let i = 0; i < N; i++) {
    batch.push(
      decodeDebeziumText(texts[i]!, { topic: 'dbserver1.public.customers', partition: 0, offset: String(i) }),
    );
    if (batch.length === BATCH) {
      ops += planBatch(config, batch, stats).ops.length;
      batch.length = 0;
    }
  }
  if (batch.length > 0) ops += planBatch(config, batch, stats).ops.length;
  const ns = Number(process.hrtime.bigint() - t0);
  if (ops === 0) throw new Error('no ops planned');
  return { rate: (N / ns) * 1e9, cpuUs: (cpuNow() - c0) / N };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
runParse();
runDecodePlan(); // warm-up
const parseRuns: Run[] = [];
const fullRuns: Run[] = [];
for (let r = 0; r < RUNS; r++) {
  parseRuns.push(runParse());
  fullRuns.push(runDecodePlan());
}
const parse = parseRuns.map((x) => x.rate);
const full = fullRuns.map((x) => x.rate);
const p = median(parse);
const f = median(full);
const ratio = f / p;
const pCpu = median(parseRuns.map((x) => x.cpuUs));
const fCpu = median(fullRuns.map((x) => x.cpuUs));
const fmt = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
const table = [
  `| events | bytes/event | JSON.parse | decode + plan | ratio (target ≥ 0.6) | CPU µs/event: JSON.parse / decode + plan | ratio by CPU |`,
  `|---|---|---|---|---|---|---|`,
  `| ${N} | ${avgBytes} | ${fmt(p)} | ${fmt(f)} | ${ratio.toFixed(2)}× | ${pCpu.toFixed(2)} / ${fCpu.toFixed(2)} | ${(pCpu / fCpu).toFixed(2)}× |`,
].join('\n');
console.log(table);
emitResult({
  bench: 'decode-plan',
  metric: `Debezium decode + plan, events/s (${avgBytes} B events, batch ${BATCH})`,
  value: f,
  unit: 'events/s',
  peer: 'JSON.parse of the same bytes',
  peerValue: p,
  ratio: median(full.map((x, i) => x / parse[i]!)),
  better: 'higher',
  targetRatio: 0.6,
  samples: RUNS,
  command: `node bench/decode-plan.ts --events ${N} --runs ${RUNS}`,
});
if (values.write) {
  const cmd = `node bench/decode-plan.ts --events ${N} --runs ${RUNS} --write`;
  const machine = `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} at the end`;
  appendFileSync(
    new URL('./results/decode-plan.md', import.meta.url),
    `\n## ${new Date().toISOString()}\n\nCommand: \`${cmd}\` (median of ${RUNS} runs, batch ${BATCH}; ${machine})\n\n${table}\n`,
  );
}
