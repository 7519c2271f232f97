/**
 * Latency mode of the consumer benchmark: the topic stamps records with the broker's append time
 * (message.timestamp.type = LogAppendTime); another process appends --rate events/s; per record,
 * latency = the time its offset was resolved (target acknowledged) − its append time.
 * p50/p90/p99/max (ms resolution of Kafka timestamps: ±1 ms), and p99 per second of append time
 * (the warm-up apart). Peer, same run, same rate: the client alone through the same adapter, with
 * an eachBatch that only resolves (the floor the client and broker set at that moment).
 */
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { type BenchRun, joined, round2 } from './bench-run.ts';
import { latencyLine, pct } from './latency-stats.ts';
import { load } from './load-process.ts';
import { observed } from './observed-port.ts';

/** Appends `--rate` events/s for `--seconds` to `topic` from the load process. */
function rateLoad(run: BenchRun, topic: string): Promise<Record<string, unknown>> {
  const { rate, seconds, partitions, keys, brokers } = run.options;
  return load([
    'rate',
    ...['--topic', topic, '--rate', String(rate), '--seconds', String(seconds)],
    ...['--partitions', String(partitions), '--keys', String(keys), '--brokers', brokers],
  ]).done;
}

/**
 * The peer: the client under test alone, through the same adapter and settings, with an eachBatch
 * that only resolves the batch's last offset (no decode, no target) — the floor the Kafka client
 * and the broker set on this machine at this moment. Returns the sorted latencies.
 */
async function clientAloneLatency(run: BenchRun): Promise<number[]> {
  const topic = await run.createTopic(true);
  const latencies: number[] = [];
  const port = observed(run.makeClient().consumer(run.portOptions(`${topic}-g`)), (ms, at) => {
    for (const m of ms) latencies.push(at - Number(m.timestamp));
  });
  let assigned = false;
  port.onGroupJoin(() => {
    assigned = true;
  });
  await port.connect();
  await port.subscribe([topic], true);
  await port.run({
    partitionsConsumedConcurrently: run.options.partitions,
    eachBatch: async (batch, c) => {
      const last = batch.messages.at(-1);
      if (last !== undefined) c.resolveOffset(last.offset);
    },
  });
  const until = Date.now() + 60_000;
  while (!assigned && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  await rateLoad(run, topic);
  const total = run.options.rate * run.options.seconds;
  const done = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < done) await new Promise((r) => setTimeout(r, 20));
  await port.stop();
  await port.disconnect();
  return latencies.sort((a, b) => a - b);
}

/**
 * Where the latency goes: append → batch handed to eachBatch (the broker, the fetch, the adapter's
 * queue) and eachBatch → resolved (decode, plan, the target's round trip, earlier chunks of the
 * same batch); p50 and p99 of each, and their means over the slowest 1 % of records.
 */
function whereItGoes(split: { wait: number; work: number }[]): string {
  if (split.length === 0) return 'no records measured';
  const wait = split.map((s) => s.wait).sort((a, b) => a - b);
  const work = split.map((s) => s.work).sort((a, b) => a - b);
  const slowest = [...split]
    .sort((a, b) => b.wait + b.work - (a.wait + a.work))
    .slice(0, Math.max(1, Math.ceil(split.length / 100)));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return (
    `append → eachBatch (fetch, adapter queue): p50 ${pct(wait, 50).toFixed(2)} ms, p99 ${pct(wait, 99).toFixed(2)} ms; ` +
    `eachBatch → resolved (decode, plan, target): p50 ${pct(work, 50).toFixed(2)} ms, p99 ${pct(work, 99).toFixed(2)} ms; ` +
    `slowest 1 %: ${mean(slowest.map((s) => s.wait)).toFixed(1)} + ${mean(slowest.map((s) => s.work)).toFixed(1)} ms on average`
  );
}

/** Runs the latency mode into `target`; adds its results and lines to `run`. */
export async function appendLatency(run: BenchRun, target: CacheTarget): Promise<void> {
  const { rate, seconds, partitions, client } = run.options;
  const total = rate * seconds;
  const peer = run.options.peer ? await clientAloneLatency(run) : undefined;
  const topic = await run.createTopic(true);
  const latencies: number[] = [];
  /** Per record: append → its batch entered eachBatch, and from there → resolved. */
  const split: { wait: number; work: number }[] = [];
  /** Per second of append time (from the first record): the latencies, to show the warm-up apart. */
  const bySecond: number[][] = [];
  let firstAppend = 0;
  const port = observed(run.makeClient().consumer(run.portOptions(`${topic}-g`)), (ms, at, batchAt) => {
    for (const m of ms) {
      const ts = Number(m.timestamp);
      latencies.push(at - ts);
      split.push({ wait: batchAt - ts, work: at - batchAt });
      if (firstAppend === 0) firstAppend = ts;
      const sec = Math.max(0, Math.floor((ts - firstAppend) / 1000));
      const list = bySecond[sec] ?? [];
      list.push(at - ts);
      bySecond[sec] = list;
    }
  });
  const consumer = run.consumerFor(port, topic, target);
  await consumer.start();
  await joined(consumer);
  const produced = await rateLoad(run, topic);
  const until = Date.now() + 30_000;
  while (latencies.length < total && Date.now() < until) {
    if (run.deadLettered) throw run.deadLettered;
    await new Promise((r) => setTimeout(r, 20));
  }
  await consumer.stop();
  run.lines.push(
    latencyLine(
      run,
      `kafka (${client}) append → applied (${target.kind}), ${rate} events/s for ${seconds} s (producer: ${Number(produced.seconds).toFixed(1)} s, other process), ${partitions} partitions`,
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
  run.lines.push(
    `  p99 per second of append time: ${p99s.join(' / ')} ms; without the first second: ` +
      `p50 ${pct(warm, 50).toFixed(2)} ms, p99 ${pct(warm, 99).toFixed(2)} ms (${warm.length} records)`,
  );
  run.lines.push(`  ${whereItGoes(split)}`);
  if (peer !== undefined) {
    const [p50, p99] = [pct(peer, 50), pct(peer, 99)];
    const name = `${client} alone (same adapter, eachBatch only resolves; no decode, no target)`;
    run.lines.push(
      `  peer ${name}: p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (${peer.length}/${total}) → ` +
        `ours/peer p50 ${(pct(latencies, 50) / p50).toFixed(2)}, p99 ${(pct(latencies, 99) / p99).toFixed(2)}`,
    );
    for (const r of run.results.slice(-2)) {
      const pv = r.metric.includes('p50') ? p50 : p99;
      r.peer = name;
      r.peerValue = round2(pv);
      r.ratio = round2(r.value / pv);
    }
  }
}
