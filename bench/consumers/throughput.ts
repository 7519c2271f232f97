/**
 * Throughput mode of the consumer benchmark: the topic is filled first (another process), then the
 * consumer drains it. events/s = records resolved (applied and acknowledged) / wall time from the
 * over events 10–50 % (the group join, first fetch and warm-up are printed apart). Beside the rate:
 * the consumer's CPU per event (process CPU / events, same window, not profiled; the main thread's
 * part too) with its breakdown by phase (cpu-breakdown.ts, profiling events 50–100 %), and the Valkey
 * server's time in APPLY per event. Peer, same run, same server: `valkey-benchmark` pipelined DEL
 * (-P 64) on as many random keys; the ratio is ours / peer.
 */
import { execFileSync } from 'node:child_process';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { type BenchRun, type RunResult, round2 } from './bench-run.ts';
import { type CpuBreakdown, PHASES, type Phase, startCpuBreakdown } from './cpu-breakdown.ts';
import { load } from './load-process.ts';
import { observed } from './observed-port.ts';

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

/** `valkey-benchmark -P 64` DEL on `n` random keys of `keys`: requests/s. */
function pipelinedDel(url: URL, n: number, keys: number): number {
  const out = execFileSync(
    'valkey-benchmark',
    [
      ...['-h', url.hostname, '-p', url.port || '6379'],
      ...['-n', String(n), '-r', String(keys), '-P', '64', '-q'],
      'DEL',
      'bench:peer:__rand_int__',
    ],
    { encoding: 'utf8' },
  );
  const m = /([\d.]+) requests per second/.exec(out);
  if (!m) throw new Error(`cannot read valkey-benchmark output: ${out}`);
  return Number(m[1]);
}

/** CPU µs from `from` to `to` (both process.cpuUsage or threadCpuUsage readings). */
function cpuUs(to: NodeJS.CpuUsage, from: NodeJS.CpuUsage): number {
  return to.user - from.user + to.system - from.system;
}

/** What a window boundary records: wall time, records resolved, process and main-thread CPU. */
function mark(at: number, resolved: number) {
  return { at, resolved, cpu: process.cpuUsage(), main: process.threadCpuUsage() };
}

/** Runs the throughput mode into `target`; adds its results and lines to `run`. */
export async function throughput(run: BenchRun, target: CacheTarget): Promise<void> {
  const { events: n, partitions, keys, brokers, client } = run.options;
  const topic = await run.createTopic(false);
  const produced = await load([
    'fill',
    ...['--topic', topic, '--events', String(n), '--partitions', String(partitions), '--keys', String(keys)],
    ...['--brokers', brokers],
  ]).done;
  const url = run.options.target.startsWith('valkey://') ? new URL(run.options.target) : undefined;
  const before = url ? evalshaUsec(url) : undefined;
  let first = 0;
  let resolved = 0;
  let last = 0;
  // Two windows: events 10–50 % unprofiled, for the rate and the CPU per event (the sampling
  // profiler costs CPU of its own on the main thread and on a thread of its own: at 500 µs it
  // added 40–50 % to CPU per event under load, 2026-12-07); events 50–100 % profiled, for the
  // shares of the phases. The first 10 % (join, first fetch, JIT warm-up) count in neither.
  const warm = Math.floor(n / 10);
  const mid = Math.floor(n / 2);
  const a = { at: 0, resolved: 0, cpu: process.cpuUsage(), main: process.threadCpuUsage() };
  const b = { ...a };
  let profiler: Promise<CpuBreakdown> | undefined;
  const port = observed(run.makeClient().consumer(run.portOptions(`${topic}-g`)), (m, at) => {
    if (first === 0) first = at;
    const was = resolved;
    resolved += m.length;
    last = at;
    if (was < warm && resolved >= warm) Object.assign(a, mark(at, resolved));
    if (was < mid && resolved >= mid) {
      Object.assign(b, mark(at, resolved));
      profiler = startCpuBreakdown();
    }
  });
  const consumer = run.consumerFor(port, topic, target);
  const start = performance.timeOrigin + performance.now();
  await consumer.start();
  await run.waitFor(
    () => resolved >= n,
    () => resolved,
    `${n} events: records resolved`,
  );
  const profiled = { cpu: process.cpuUsage(b.cpu), events: resolved - b.resolved };
  const breakdown = profiler
    ? await (await profiler).stop()
    : { shares: Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<Phase, number>, gcMs: 0, samples: 0 };
  await consumer.stop();
  const after = url ? evalshaUsec(url) : undefined;
  const events = b.resolved - a.resolved;
  const rate = events / ((b.at - a.at) / 1000);
  const peerName = `valkey-benchmark -P 64 -n ${n} -r ${keys} DEL`;
  const peer = url && run.options.peer ? pipelinedDel(url, n, keys) : null;
  const r: RunResult = {
    metric: `Kafka → ${target.kind} throughput, ${partitions} partitions, one process${run.clientSuffix}`,
    value: Math.round(rate),
    unit: 'events/s',
    better: 'higher',
    target: 100_000,
    note: `${n} events over ${keys} keys, 2 ops/event (refresh + invalidate)`,
  };
  if (peer !== null) {
    r.peer = `${peerName} (requests/s, same server)`;
    r.peerValue = Math.round(peer);
    r.ratio = round2(rate / peer);
  }
  run.results.push(r);
  const server =
    before && after && after.calls > before.calls
      ? `; Valkey server ${((after.usec - before.usec) / n).toFixed(2)} µs/event in APPLY`
      : '';
  const cpuPerEvent = cpuUs(b.cpu, a.cpu) / events;
  const mainPerEvent = Math.min(cpuPerEvent, cpuUs(b.main, a.main) / events);
  const threadsPerEvent = cpuPerEvent - mainPerEvent;
  const profiledPerEvent = (profiled.cpu.user + profiled.cpu.system) / profiled.events;
  run.lines.push(
    `kafka (${client}) → ${target.kind}: ${n} events, ${partitions} partitions, ${keys} keys: ` +
      `${Math.round(rate)} events/s over events ${warm}–${mid} (join+first fetch ` +
      `${((first - start) / 1000).toFixed(2)} s, all ${n} in ${((last - first) / 1000).toFixed(1)} s; consumer CPU ${cpuPerEvent.toFixed(1)} µs/event, main thread ${mainPerEvent.toFixed(1)}; fill ${Number(produced.seconds).toFixed(1)} s in another process${server})`,
  );
  if (peer !== null)
    run.lines.push(
      `  peer ${peerName}: ${Math.round(peer)} requests/s → ours/peer = ${(rate / peer).toFixed(2)}`,
    );
  // CPU per event with its breakdown: rates move with the machine's load, CPU per event much less.
  // The phases share the main thread's CPU; the other threads (V8's GC helpers and compiler,
  // libuv's pool) are a part of their own.
  const parts = [
    ...PHASES.map(
      (p) =>
        `${p} ${(mainPerEvent * breakdown.shares[p]).toFixed(1)} (${Math.round((mainPerEvent * breakdown.shares[p] * 100) / cpuPerEvent)} %)`,
    ),
    `other threads ${threadsPerEvent.toFixed(1)} (${Math.round((threadsPerEvent * 100) / cpuPerEvent)} %)`,
  ].join(', ');
  const gcPauses = `GC pauses ${((breakdown.gcMs * 1000) / profiled.events).toFixed(1)} µs/event`;
  run.lines.push(
    `  CPU ${cpuPerEvent.toFixed(1)} µs/event = ${parts}; ${gcPauses} (${breakdown.samples} samples over events ${mid}–${n}, at ${profiledPerEvent.toFixed(1)} µs/event with the profiler's own cost)`,
  );
  run.results.push({
    metric: `Kafka → ${target.kind} consumer CPU per event, one process${run.clientSuffix}`,
    value: round2(cpuPerEvent),
    unit: 'µs/event',
    better: 'lower',
    note: `process CPU (all threads) / events, first resolve to last; µs/event: ${parts} (phases: main-thread profile shares × main-thread CPU); ${gcPauses}`,
  });
  // One row per phase too, so bench/run.ts's summary table shows the breakdown beside the rate.
  for (const p of PHASES) {
    run.results.push({
      metric: `Kafka → ${target.kind} consumer CPU per event: ${p}${run.clientSuffix}`,
      value: round2(mainPerEvent * breakdown.shares[p]),
      unit: 'µs/event',
      better: 'lower',
      note: `${Math.round(breakdown.shares[p] * 100)} % of main-thread busy samples × main-thread CPU per event`,
    });
  }
  run.results.push({
    metric: `Kafka → ${target.kind} consumer CPU per event: other threads${run.clientSuffix}`,
    value: round2(threadsPerEvent),
    unit: 'µs/event',
    better: 'lower',
    note: 'process CPU minus main-thread CPU, per event (GC helper threads, compiler, libuv pool)',
  });
}
