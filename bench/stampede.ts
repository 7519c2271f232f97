/**
 * Benchmark (not a test): the cross-process stampede. For each cold key, 4 processes × 250
 * concurrent `getOrLoad` calls (the cache client: single-flight, lease-guarded fill; loader
 * --loader-ms) against Valkey (waiters poll with backoff) and against the engine server (waiters
 * are woken). Peer, side by side on the same server: plain cache-aside without a guard
 * (bench/stampede/naive-child.ts: GET, on a miss load and SET), the same processes and calls.
 * Reports loader calls per cold key (issue 5: exactly 1) and the waiters' added wait
 * (call latency − loader time) p50/p99 over all calls of all keys.
 *
 *   node bench/stampede.ts [--keys 10] [--loader-ms 100] [--targets valkey,engine] [--write]
 *
 * Starts its own valkey-server and engine server on free ports. `--write` appends the table to
 * bench/results/stampede.md; with CDC_CACHE_BENCH_JSON set, one result line per metric goes there.
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startEngineServer } from '../engine/index.ts';
import { runStampede } from '../test/support/conformance/stampede.ts';
import { startOwnValkey } from '../test/support/own-valkey.ts';
import { emitResult, formatNumber, median, percentile } from './suite.ts';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '10' },
    'loader-ms': { type: 'string', default: '100' },
    targets: { type: 'string', default: 'valkey,engine' },
    write: { type: 'boolean', default: false },
  },
});
const KEYS = Number(values.keys);
const LOADER_MS = Number(values['loader-ms']);
const PROCESSES = 4;
const CALLS = 250;
const command = `node bench/stampede.ts --keys ${KEYS} --loader-ms ${LOADER_MS} --targets ${values.targets}`;
const NAIVE_CHILD = new URL('./stampede/naive-child.ts', import.meta.url).pathname;

/** One naive (unguarded cache-aside) stampede: P processes × N calls released together. */
async function runNaive(port: number, key: string): Promise<{ loaderCalls: number; latencies: number[] }> {
  const job = JSON.stringify({ host: '127.0.0.1', port, key, calls: CALLS, loaderMs: LOADER_MS });
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, [NAIVE_CHILD, job], { stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  const done = children.map(
    (child) =>
      new Promise<{ ready: Promise<void>; out: Promise<string> }>((outer) => {
        let out = '';
        let err = '';
        let markReady: () => void = () => {};
        const ready = new Promise<void>((r) => {
          markReady = r;
        });
        const result = new Promise<string>((resolve, reject) => {
          child.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.startsWith('ready\n')) markReady();
          });
          child.stderr.on('data', (d: Buffer) => {
            err += d.toString();
          });
          child.on('exit', (code) => {
            markReady();
            if (code === 0) resolve(out.slice('ready\n'.length).trim());
            else reject(new Error(`naive stampede child exited ${code}: ${err.trim().slice(-1000)}`));
          });
        });
        outer({ ready, out: result });
      }),
  );
  const handles = await Promise.all(done);
  await Promise.all(handles.map((h) => h.ready));
  for (const c of children) c.stdin.end('go\n');
  const outs = await Promise.all(handles.map((h) => h.out));
  const total = { loaderCalls: 0, latencies: [] as number[] };
  for (const line of outs) {
    const r = JSON.parse(line) as { loaderCalls: number; latencies: number[] };
    total.loaderCalls += r.loaderCalls;
    total.latencies.push(...r.latencies);
  }
  return total;
}

const loadAtStart = loadavg();
const rows: string[] = [];
for (const name of values.targets.split(',')) {
  if (name !== 'valkey' && name !== 'engine')
    throw new Error(`--targets: unknown "${name}" (valkey, engine)`);
  const valkey = name === 'valkey' ? await startOwnValkey() : undefined;
  const engine = name === 'engine' ? await startEngineServer({ port: 0 }) : undefined;
  const port = valkey?.port ?? engine!.port;
  const url = valkey ? valkey.url : `engine://127.0.0.1:${port}`;
  try {
    const ours = { calls: [] as number[], added: [] as number[] };
    const naive = { calls: [] as number[], added: [] as number[] };
    for (let k = 0; k < KEYS; k++) {
      // Alternate who goes first, so neither side always runs right after the other.
      const runOurs = async () => {
        const r = await runStampede({ kind: 'url', url }, `stampede:ours:${k}`, PROCESSES, CALLS, LOADER_MS);
        ours.calls.push(r.loaderCalls);
        for (const l of r.latencies) ours.added.push(Math.max(0, l - LOADER_MS));
      };
      const runPeer = async () => {
        const r = await runNaive(port, `stampede:naive:${k}`);
        naive.calls.push(r.loaderCalls);
        for (const l of r.latencies) naive.added.push(Math.max(0, l - LOADER_MS));
      };
      if (k % 2 === 0) {
        await runOurs();
        await runPeer();
      } else {
        await runPeer();
        await runOurs();
      }
    }
    const label = name === 'valkey' ? 'Valkey (waiters poll 2→50 ms)' : 'engine server (waiters woken)';
    const peer = 'plain cache-aside (GET, load on miss, SET), same processes and calls';
    const oursCalls = median(ours.calls);
    const peerCalls = median(naive.calls);
    emitResult({
      bench: 'stampede',
      metric: `${label}: loader calls per cold key (${PROCESSES} processes × ${CALLS} calls)`,
      value: oursCalls,
      unit: 'calls',
      peer,
      peerValue: peerCalls,
      ratio: oursCalls / peerCalls,
      better: 'lower',
      target: 1,
      samples: KEYS,
      command,
      note: `per key: ours ${ours.calls.join(', ')}; peer ${naive.calls.join(', ')}`,
    });
    for (const q of [0.5, 0.99] as const) {
      const o = percentile(ours.added, q);
      const p = percentile(naive.added, q);
      emitResult({
        bench: 'stampede',
        metric: `${label}: added wait p${q * 100} (latency − ${LOADER_MS} ms loader)`,
        value: o,
        unit: 'ms',
        peer,
        peerValue: p,
        ratio: p > 0 ? o / p : Number.NaN,
        better: 'lower',
        samples: ours.added.length,
        command,
      });
    }
    const f = (xs: number[], q: number) => formatNumber(percentile(xs, q));
    rows.push(
      `| ${label} | ${oursCalls} (${ours.calls.join(', ')}) | ${peerCalls} | ${f(ours.added, 0.5)} / ${f(ours.added, 0.99)} ms | ${f(naive.added, 0.5)} / ${f(naive.added, 0.99)} ms |`,
    );
  } finally {
    await valkey?.stop();
    await engine?.close();
  }
}
const table = [
  `Stampede: ${KEYS} cold keys per target, each read by ${PROCESSES} processes × ${CALLS} concurrent calls, loader ${LOADER_MS} ms.`,
  '',
  '| target | loader calls per key (ours) | plain cache-aside | added wait p50 / p99 (ours) | plain cache-aside |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
].join('\n');
console.log(table);
if (values.write) {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, load ${loadAtStart[0]!.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}`;
  appendFileSync(
    new URL('./results/stampede.md', import.meta.url),
    `\n## ${new Date().toISOString()}\n\n\`${command}\` (${machine})\n\n${table}\n`,
  );
}
