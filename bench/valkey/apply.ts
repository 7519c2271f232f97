/**
 * Benchmark (not a test): a replayed Debezium change log applied into Valkey through the whole
 * pipeline (read JSONL → decode → plan → fenced invalidations, many per APPLY script call, one
 * process), next to `valkey-benchmark` pipelined DEL on the same keys against the same server, in
 * the same run. Beside it, the target alone: the same planned batches through `target.apply`, with
 * the server's time per op (INFO commandstats), so decode/plan cost and apply cost show apart.
 * (The cross-process stampede moved to bench/stampede.ts.)
 *
 *   node bench/valkey/apply.ts [--events 300000] [--keys 50000] [--batch 10000] [--runs 3] [--write]
 *
 * It starts its own valkey-server on a free port (never the shared harness instances), so the
 * numbers are not disturbed by other tests. `--write` appends the results to bench/results/valkey.md;
 * with CDC_CACHE_BENCH_JSON set, one result line per row goes there (bench/suite.ts).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { replayChangeLogs } from '../../core/pipeline/replay.ts';
import { compileConfig } from '../../core/rules/compile.ts';
import type { CacheOp } from '../../core/targets/cache-op.ts';
import { RUNNER_DEFAULTS } from '../../core/targets/valkey/valkey-runner.ts';
import { createValkeyTarget } from '../../core/targets/valkey/valkey-target.ts';
import { startOwnValkey } from '../../test/support/own-valkey.ts';
import { emitResult, median } from '../suite.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    keys: { type: 'string', default: '50000' },
    batch: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    write: { type: 'boolean', default: false },
  },
});
const N = Number(values.events);
const K = Number(values.keys);
const BATCH = Number(values.batch);
const RUNS = Number(values.runs);
const command = `node bench/valkey/apply.ts ${process.argv.slice(2).join(' ')}`.trim();

/** valkey-benchmark's __rand_int__ spelling (12 digits), so both sides touch the same keys. */
const code = (i: number) => String(i % K).padStart(12, '0');

function debeziumLine(i: number): string {
  const lsn = 24023128 + i * 2;
  const ts = 1732262400000 + i;
  const row = { id: i % K, code: code(i), email: `user.${i % K}@acme.com`, status: 'active', score: i % 997 };
  const value = {
    before: i % 3 === 0 ? null : { ...row, status: 'pending' },
    after: row,
    source: {
      version: '3.0.1.Final',
      connector: 'postgresql',
      name: 'dbserver1',
      ts_ms: ts,
      snapshot: 'false',
      db: 'inventory',
      schema: 'public',
      table: 'customers',
      txId: 780 + i,
      lsn,
    },
    op: i % 3 === 0 ? 'c' : 'u',
    ts_ms: ts + 3,
  };
  return JSON.stringify({
    topic: 'dbserver1.public.customers',
    partition: 0,
    offset: i,
    key: { id: i % K },
    value,
  });
}

const loadAtStart = loadavg();
const server = await startOwnValkey();
const cli = (...args: string[]) =>
  execFileSync('valkey-cli', ['-p', String(server.port), ...args], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'cdc-valkey-bench-'));
try {
  const log = join(dir, 'changelog.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < N; i++) lines.push(debeziumLine(i));
  writeFileSync(log, `${lines.join('\n')}\n`);
  const config = compileConfig({
    rules: [{ table: 'public.customers', keys: ['customer:{code}'], action: 'invalidate' }],
  });

  // The planned batches, once, for the target-only measurement.
  const batches: CacheOp[][] = [];
  await replayChangeLogs([log], { config, batchSize: BATCH, onPlan: (ops) => batches.push([...ops]) });
  const opCount = batches.reduce((n, b) => n + b.length, 0);

  const ours: number[] = [];
  const theirs: number[] = [];
  const applyOnly: number[] = [];
  const serverUs: number[] = [];
  const serverCpuUs: number[] = [];
  /** The server process's CPU seconds so far (INFO cpu: user + sys), less swayed by load than commandstats. */
  const serverCpu = () => {
    const info = cli('INFO', 'cpu');
    const n = (f: string) => Number(new RegExp(`${f}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
    return n('used_cpu_sys') + n('used_cpu_user');
  };
  for (let run = 0; run < RUNS; run++) {
    cli('FLUSHALL');
    cli('CONFIG', 'RESETSTAT');
    const alone = await createValkeyTarget({ url: server.url, tombstoneTtlMs: 300_000 });
    const cpu0 = serverCpu();
    const a0 = performance.now();
    for (const b of batches) {
      for (const r of await alone.apply(b)) if (!r.ok) throw r.error;
    }
    applyOnly.push(opCount / ((performance.now() - a0) / 1000));
    serverCpuUs.push(((serverCpu() - cpu0) * 1e6) / opCount);
    await alone.close();
    const evalsha = /cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(cli('INFO', 'commandstats'));
    serverUs.push(Number(evalsha?.[1] ?? Number.NaN) / opCount);

    cli('FLUSHALL');
    const target = await createValkeyTarget({ url: server.url, tombstoneTtlMs: 300_000 });
    const t0 = performance.now();
    const summary = await replayChangeLogs([log], { config, target, batchSize: BATCH });
    const secs = (performance.now() - t0) / 1000;
    await target.close();
    if (summary.failed !== 0 || summary.events !== N) {
      throw new Error(`replay did not apply everything: ${JSON.stringify(summary)}`);
    }
    ours.push(N / secs);
    const del = execFileSync(
      'valkey-benchmark',
      [
        ...['-h', '127.0.0.1', '-p', String(server.port), '-n', String(N), '-r', String(K), '-P', '64', '-q'],
        ...['DEL', 'customer:__rand_int__'],
      ],
      { encoding: 'utf8' },
    );
    const m = /([\d.]+) requests per second/.exec(del);
    if (!m) throw new Error(`cannot read valkey-benchmark output: ${del}`);
    theirs.push(Number(m[1]));
    console.log(
      `run ${run + 1}: replay ${Math.round(ours.at(-1)!)} events/s, target alone ${Math.round(applyOnly.at(-1)!)} ops/s (server ${serverUs.at(-1)!.toFixed(2)} µs/op, CPU ${serverCpuUs.at(-1)!.toFixed(2)} µs/op), valkey-benchmark DEL ${theirs.at(-1)} rps`,
    );
  }
  const oursMed = median(ours);
  const theirsMed = median(theirs);
  const ratio = oursMed / theirsMed;
  const aloneMed = median(applyOnly);
  const met = (x: number) => (x >= 200_000 || x / theirsMed >= 0.4 ? 'met' : 'NOT met');

  const valkeyVersion = execFileSync('valkey-server', ['--version'], { encoding: 'utf8' }).trim();
  const report = [
    `## Valkey target: ${new Date().toISOString()}`,
    '',
    `Command: \`${command}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ${valkeyVersion}; a private valkey-server on 127.0.0.1; load average at the start ${loadAtStart
      .map((x) => x.toFixed(1))
      .join(' ')}, at the end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}.`,
    '',
    `Apply: ${N} Debezium change events (PostgreSQL envelope, ${K} distinct keys, update/create → invalidate),`,
    `replayed from JSONL through decode → plan → the Valkey target (fenced invalidations, up to`,
    `${RUNNER_DEFAULTS.maxOpsPerScript} per APPLY script call, batch ${BATCH}, ${RUNNER_DEFAULTS.maxInFlight} calls in flight), one process. Target alone: the same ${opCount} planned ops`,
    `through \`target.apply\` (no decode/plan), with the server's EVALSHA time per op (INFO commandstats) and its CPU per op (INFO cpu). Peer: \`valkey-benchmark -P 64 -r ${K} -n ${N} DEL customer:__rand_int__\``,
    '(50 clients) on the same keys and server, right after each replay. Median of runs.',
    '',
    '| runs | measured | rate (median) | valkey-benchmark DEL/s | ratio | target ≥ 200k/s or ≥ 0.4× |',
    '| ---- | -------- | ------------- | ---------------------- | ----- | -------------------------- |',
    `| ${RUNS} | replay (whole pipeline), events/s | ${Math.round(oursMed)} | ${Math.round(theirsMed)} | ${ratio.toFixed(2)} | ${met(oursMed)} |`,
    `| ${RUNS} | target alone, ops/s (server ${median(serverUs).toFixed(2)} µs/op, CPU ${median(serverCpuUs).toFixed(2)} µs/op) | ${Math.round(aloneMed)} | ${Math.round(theirsMed)} | ${(aloneMed / theirsMed).toFixed(2)} | ${met(aloneMed)} |`,
    '',
  ].join('\n');
  const peer = `valkey-benchmark -P 64 DEL, same keys and server`;
  const jsonCommand = command.replace(/ --write\b/, '');
  emitResult({
    bench: 'valkey-apply',
    metric: `replayed Debezium log → Valkey, events/s (decode + plan + fenced apply, ${K} keys)`,
    value: oursMed,
    unit: 'events/s',
    peer,
    peerValue: theirsMed,
    ratio: median(ours.map((x, i) => x / theirs[i]!)),
    better: 'higher',
    target: 200_000,
    targetRatio: 0.4,
    samples: RUNS,
    command: jsonCommand,
  });
  emitResult({
    bench: 'valkey-apply',
    metric: 'target alone (planned ops → target.apply), ops/s',
    value: aloneMed,
    unit: 'ops/s',
    peer,
    peerValue: theirsMed,
    ratio: median(applyOnly.map((x, i) => x / theirs[i]!)),
    better: 'higher',
    target: 200_000,
    targetRatio: 0.4,
    samples: RUNS,
    command: jsonCommand,
    note: `server time per fenced op ${median(serverUs).toFixed(2)} µs (EVALSHA, INFO commandstats), server CPU ${median(serverCpuUs).toFixed(2)} µs (INFO cpu)`,
  });
  console.log(`\n${report}`);
  if (values.write) appendFileSync(new URL('../results/valkey.md', import.meta.url), `${report}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
  await server.stop();
}
