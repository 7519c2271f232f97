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
import { DECODE_PLAN_RULES, makeEvent } from './decode-plan-events.ts';
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

const texts = Array.from({ length: N }, (_, i) => makeEvent(i));
const avgBytes = Math.round(texts.reduce((s, t) => s + Buffer.byteLength(t), 0) / N);
const config = compileConfig(DECODE_PLAN_RULES);
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
