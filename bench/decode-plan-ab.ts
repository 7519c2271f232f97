/**
 * A/B of decode + plan in one process: the decoder and planner of another checkout (`--base`, e.g.
 * the main worktree) against this one, on the same events (decode-plan-events.ts), rounds
 * interleaved (ABBA…), by main-thread CPU per event (process.threadCpuUsage). Both module graphs
 * load side by side, so both sides share the process, the machine's load and the JIT's budget;
 * the paired ratio per round (this / base) is the figure to read on a loaded machine.
 *
 * Which checkout's modules load first may matter (JIT and inline-cache state of shared builtins):
 * by default the tool runs twice, in child processes, once per load order, and reports the
 * geometric mean of the two paired medians beside each order's figure (an order effect cancels).
 * Measured 2026-12-07 at load 8–20: medians of 15 rounds spread by ±4 % between runs of identical
 * code pairs, with no consistent order effect, so read differences under ~5 % as none.
 * `--order base-first|this-first` runs one order only.
 *
 * `--alloc` adds the bytes each side allocates per event (V8's sampling heap profiler, counting
 * the objects already collected too): unlike CPU time it does not move with the machine's load.
 *
 *   node bench/decode-plan-ab.ts --base /work/main [--events 50000] [--runs 15] [--order base-first] [--alloc]
 */
import { execFileSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { ChangeEvent } from '../core/event/change-event.ts';
import { DECODE_PLAN_RULES, makeEvent } from './decode-plan-events.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    events: { type: 'string', default: '50000' },
    runs: { type: 'string', default: '15' },
    order: { type: 'string' },
    alloc: { type: 'boolean', default: false },
  },
});
if (values.base === undefined) throw new Error('--base DIR: a checkout to compare with (e.g. /work/main)');
if (values.order === undefined) {
  const paired: number[] = [];
  for (const order of ['base-first', 'this-first']) {
    const args = [
      ...process.execArgv,
      new URL(import.meta.url).pathname,
      ...['--base', values.base, '--events', values.events, '--runs', values.runs, '--order', order],
      ...(values.alloc ? ['--alloc'] : []),
    ];
    const out = execFileSync(process.execPath, args, { encoding: 'utf8' });
    process.stdout.write(out);
    paired.push(Number(/paired this\/base per round: median ([\d.]+)/.exec(out)![1]));
  }
  const [r1, r2] = paired as [number, number];
  console.log(
    `both orders: this/base ${Math.sqrt(r1 * r2).toFixed(3)} (geometric mean of ${r1.toFixed(3)} and ${r2.toFixed(3)}; load-order bias ${Math.sqrt(r1 / r2).toFixed(3)})`,
  );
  process.exit(0);
}
if (values.order !== 'base-first' && values.order !== 'this-first')
  throw new Error(`--order ${values.order}: use base-first or this-first`);
const N = Number(values.events);
const RUNS = Number(values.runs);

/** One side: its decoder, planner and compiled rules. */
interface Side {
  decode(text: string, ctx: { topic: string; partition: number; offset: string }): ChangeEvent | null;
  plan(config: unknown, events: (ChangeEvent | null)[], stats: unknown): { ops: unknown[] };
  stats(): unknown;
  config: unknown;
}

async function side(root: string): Promise<Side> {
  const at = (p: string) => new URL(p, `file://${root.replace(/\/?$/, '/')}`).href;
  const { decodeDebeziumText } = await import(at('core/decode/debezium-text.ts'));
  const { planBatch } = await import(at('core/plan/planner.ts'));
  const { PlanStats } = await import(at('core/plan/plan-stats.ts'));
  const { compileConfig } = await import(at('core/rules/compile.ts'));
  return {
    decode: decodeDebeziumText,
    plan: planBatch,
    stats: () => new PlanStats(1),
    config: compileConfig(DECODE_PLAN_RULES),
  };
}

const here = new URL('..', import.meta.url).pathname;
let base: Side;
let ours: Side;
if (values.order === 'base-first') {
  base = await side(values.base);
  ours = await side(here);
} else {
  ours = await side(here);
  base = await side(values.base);
}
const texts = Array.from({ length: N }, (_, i) => makeEvent(i));
const cpu = () => {
  const c = process.threadCpuUsage();
  return c.user + c.system;
};

/** CPU µs per event of decode + plan (batches of 500, as bench/decode-plan.ts). */
function run(s: Side): number {
  const c0 = cpu();
  const stats = s.stats();
  const batch: (ChangeEvent | null)[] = [];
  let ops = 0;
  for (let i = 0; i < N; i++) {
    batch.push(s.decode(texts[i]!, { topic: 'dbserver1.public.customers', partition: 0, offset: String(i) }));
    if (batch.length === 500) {
      ops += s.plan(s.config, batch, stats).ops.length;
      batch.length = 0;
    }
  }
  if (ops === 0) throw new Error('no ops planned');
  return (cpu() - c0) / N;
}

function parse(): number {
  const c0 = cpu();
  let sink = 0;
  for (const t of texts) sink += (JSON.parse(t) as { op: string }).op.length;
  if (sink === 0) throw new Error('unreachable');
  return (cpu() - c0) / N;
}

run(base);
run(ours);
parse();
const a: number[] = [];
const b: number[] = [];
const p: number[] = [];
for (let r = 0; r < RUNS; r++) {
  p.push(parse());
  if (r % 2 === 0) {
    a.push(run(base));
    b.push(run(ours));
  } else {
    b.push(run(ours));
    a.push(run(base));
  }
}
const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
const paired = a.map((x, i) => b[i]! / x);
const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
console.log(
  [
    `decode + plan, CPU µs/event, median of ${RUNS} interleaved rounds of ${N} events, ${values.order} (load ${loadavg()[0]!.toFixed(1)} at the end):`,
    `  JSON.parse ${med(p).toFixed(2)}; base (${values.base}) ${med(a).toFixed(2)} (${list(a)}); this checkout ${med(b).toFixed(2)} (${list(b)})`,
    `  ratio to JSON.parse by CPU: base ${(med(p) / med(a)).toFixed(3)}×, this ${(med(p) / med(b)).toFixed(3)}× (goal ≥ 0.6×)`,
    `  paired this/base per round: median ${med(paired).toFixed(3)} (${list(paired)})`,
  ].join('\n'),
);

/** Bytes allocated per event by `work` (sampled every 256 bytes, collected objects included). */
async function allocatedPerEvent(work: () => unknown): Promise<number> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 256,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  work();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  let bytes = 0;
  const walk = (n: { selfSize: number; children: (typeof n)[] }) => {
    bytes += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  return bytes / N;
}

if (values.alloc) {
  const parseBytes = await allocatedPerEvent(parse);
  const baseBytes = await allocatedPerEvent(() => run(base));
  const ourBytes = await allocatedPerEvent(() => run(ours));
  console.log(
    `  allocated per event (includes the benchmark loop's context object and offset string): JSON.parse ${parseBytes.toFixed(0)} B; base ${baseBytes.toFixed(0)} B; this ${ourBytes.toFixed(0)} B (this/base ${(ourBytes / baseBytes).toFixed(3)})`,
  );
}
