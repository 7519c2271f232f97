/**
 * `npm run bench`: the benchmark suite as one command. Runs every benchmark (each as a child
 * process with CDC_CACHE_BENCH_JSON set, so it appends one JSON line per result), aggregates the
 * medians, prints ONE summary table (ours, peer, ratio, the issue's target, met?) and, with
 * --write, puts the run on top of bench/results/SUITE.md with the machine and the exact commands.
 * A benchmark that fails, times out, reports nothing or whose service is missing shows as FAILED
 * with the reason; the others still run and the exit code is 1. See bench/README.md.
 *
 *   node bench/run.ts [--only decode-plan,engine,valkey,stampede,near-cache,tags,lambda,consumers] [--runs 3]
 *                     [--quick] [--write]
 *
 * --runs: repetitions; scripts that take medians internally get it as their round count, the
 *   others (consumers) are spawned that many times. --quick: small sizes and 1 repetition of the
 *   spawned benchmarks, a smoke run of about 2 minutes (not for comparing numbers).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  aggregate,
  BENCH_JSON_ENV,
  type BenchFailure,
  type BenchResult,
  type MachineInfo,
  parseResultLines,
  prependReport,
  renderReport,
  renderTable,
} from './suite.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS_FILE = join(ROOT, 'bench', 'results', 'SUITE.md');
const RESULTS_HEADER =
  '# Benchmark suite results\n\nWritten by `npm run bench -- --write` (bench/run.ts), newest run first. ' +
  'How to read the table: bench/README.md.\n\n';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string' },
    quick: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const R = Number(values.runs ?? 3);
if (!Number.isInteger(R) || R < 1) {
  console.error(`bench: --runs ${values.runs}: use a whole number ≥ 1`);
  process.exit(2);
}
/** Repetitions of benchmarks the runner spawns several times (no internal medians). */
const repeat = quick && values.runs === undefined ? 1 : R;
const VALKEY_URL = process.env.CDC_CACHE_VALKEY_URL ?? 'valkey://127.0.0.1:16379';
const KAFKA = process.env.CDC_CACHE_KAFKA_BROKERS ?? '127.0.0.1:19092';
const PG = '127.0.0.1:15432';
const CONNECT = '127.0.0.1:18083';

/** Something a benchmark needs; checked before it runs. */
type Requirement = { bin: string } | { tcp: string; service: string } | { file: string };

/** One child command of the suite. */
interface Step {
  /** Group name used by --only and in FAILED rows. */
  group: string;
  args: string[];
  /** How many times to spawn it. */
  times: number;
  requires: Requirement[];
  /** Minutes before it is killed. */
  timeoutMin: number;
  /** True for a step that produces no results (a build); failing fails its group. */
  prerequisite?: boolean;
}

const q = <T>(full: T, small: T): T => (quick ? small : full);
const VALKEY_BINS: Requirement[] = [
  { bin: 'valkey-server' },
  { bin: 'valkey-cli' },
  { bin: 'valkey-benchmark' },
];
const consumer = (mode: string, extra: string[]): Step => ({
  group: 'consumers',
  args: [
    'bench/consumers/kafka-consumer.ts',
    '--mode',
    mode,
    ...extra,
    '--partitions',
    '4',
    '--target',
    VALKEY_URL,
  ],
  times: repeat,
  requires: [
    { file: 'bench/consumers/kafka-consumer.ts' },
    { tcp: KAFKA, service: 'Kafka' },
    { tcp: VALKEY_URL.replace(/^valkeys?:\/\//, '').replace(/\/.*$/, ''), service: 'Valkey' },
  ],
  timeoutMin: q(5, 2),
});

/** The suite, in run order. Sizes: full ≈ 15 min on a quiet 2-vCPU machine (≈ 35 min under heavy load), --quick ≈ 4 min. */
const STEPS: Step[] = [
  {
    group: 'decode-plan',
    args: ['bench/decode-plan.ts', '--events', q('200000', '20000'), '--runs', String(q(2 * R + 1, R))],
    times: 1,
    requires: [],
    timeoutMin: q(4, 1),
  },
  {
    group: 'engine',
    args: [
      'bench/engine/run.ts',
      '--no-write',
      '--rounds',
      String(R),
      '--requests',
      q('200000', '20000'),
      '--keys',
      q('1000000', '50000'),
      '--inproc-keys',
      q('1000000', '100000'),
      '--inproc-ops',
      q('4000000', '400000'),
      '--json-ops',
      q('4000', '400'),
    ],
    times: 1,
    requires: VALKEY_BINS,
    timeoutMin: q(30, 5),
  },
  {
    group: 'valkey',
    args: ['bench/valkey/apply.ts', '--events', q('200000', '20000'), '--runs', String(R)],
    times: 1,
    requires: VALKEY_BINS,
    timeoutMin: q(5, 2),
  },
  {
    group: 'stampede',
    args: ['bench/stampede.ts', '--keys', String(q(2 * R, 1))],
    times: 1,
    requires: [{ bin: 'valkey-server' }],
    timeoutMin: q(5, 2),
  },
  {
    group: 'near-cache',
    args: ['bench/client/near-hit.ts', '--ops', q('2000000', '200000'), '--rounds', String(q(2 * R + 1, R))],
    times: 1,
    requires: [],
    timeoutMin: q(3, 1),
  },
  {
    group: 'near-cache',
    args: ['bench/client/near-invalidation.ts', '--iterations', q('500', '50')],
    times: 1,
    requires: [{ bin: 'valkey-server' }],
    timeoutMin: q(5, 2),
  },
  {
    group: 'tags',
    args: [
      'bench/client/tag-invalidation.ts',
      '--sizes',
      q('1000,10000', '1000'),
      '--rounds',
      String(q(R, 1)),
    ],
    times: 1,
    requires: [{ bin: 'valkey-server' }],
    timeoutMin: q(5, 2),
  },
  {
    group: 'lambda',
    args: ['functions/build.ts'],
    times: 1,
    requires: [],
    timeoutMin: 2,
    prerequisite: true,
  },
  {
    group: 'lambda',
    args: ['bench/lambda/cold-init.ts', '--runs', String(q(5 * R, R))],
    times: 1,
    requires: [],
    timeoutMin: q(3, 1),
  },
  {
    group: 'lambda',
    args: ['bench/lambda/per-batch.ts', '--iterations', q('200', '30'), '--warmup', q('30', '5')],
    times: 1,
    requires: [{ bin: 'valkey-server' }],
    timeoutMin: q(3, 1),
  },
  consumer('throughput', ['--events', q('200000', '20000')]),
  consumer('latency', ['--rate', q('10000', '2000'), '--seconds', q('10', '3')]),
  consumer('throughput', ['--events', q('200000', '20000'), '--client', 'platformatic']),
  consumer('latency', ['--rate', q('10000', '2000'), '--seconds', q('10', '3'), '--client', 'platformatic']),
  {
    ...consumer('db-latency', ['--rate', q('200', '100'), '--seconds', q('10', '3')]),
    requires: [
      ...consumer('db-latency', []).requires,
      { tcp: PG, service: 'PostgreSQL' },
      { tcp: CONNECT, service: 'Kafka Connect (Debezium)' },
    ],
  },
];

const groups = [...new Set(STEPS.map((s) => s.group))];
const wanted = values.only?.split(',').map((s) => s.trim()) ?? groups;
const unknown = wanted.filter((w) => !groups.includes(w));
if (unknown.length > 0) {
  console.error(
    `bench: unknown benchmark ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${groups.join(', ')}`,
  );
  process.exit(2);
}

function hasBin(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function tcpOpen(hostPort: string): Promise<boolean> {
  const [host, port] = [hostPort.slice(0, hostPort.lastIndexOf(':')), Number(hostPort.split(':').pop())];
  return new Promise((resolve) => {
    const s = net.connect({ host: host || '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** The first unmet requirement, as a reason with the fix; undefined when all are met. */
async function missing(reqs: Requirement[]): Promise<string | undefined> {
  for (const r of reqs) {
    if ('bin' in r && !hasBin(r.bin)) return `${r.bin} not on PATH (install it: see infra/local)`;
    if ('file' in r && !existsSync(join(ROOT, r.file))) return `${r.file} is missing`;
    if ('tcp' in r && !(await tcpOpen(r.tcp)))
      return `${r.service} not reachable on ${r.tcp} (start it: npm run services:up)`;
  }
  return undefined;
}

/** Process group of the running child (it is detached), killed when the suite is interrupted. */
let currentGroup: number | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (currentGroup !== undefined) {
      try {
        process.kill(-currentGroup, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

/** Runs one child; output goes through; returns the exit status, a stderr tail and the seconds. */
function runChild(
  args: string[],
  jsonFile: string,
  timeoutMin: number,
): Promise<{ ok: boolean; reason: string; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, [BENCH_JSON_ENV]: jsonFile },
      stdio: ['ignore', 'inherit', 'pipe'],
      detached: true, // own process group: a timeout kills the servers it started too
    });
    currentGroup = child.pid;
    let tail = '';
    child.stderr!.on('data', (d: Buffer) => {
      process.stderr.write(d);
      tail = (tail + d.toString()).slice(-4000);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMin * 60_000);
    const finish = (code: number | null, signal: string | null, error?: Error): void => {
      clearTimeout(timer);
      currentGroup = undefined;
      const seconds = (performance.now() - t0) / 1000;
      // The error message: the last line naming an error, else the last line that is not noise.
      const lines = tail
        .trim()
        .split('\n')
        .filter((l) => l.trim() !== '' && !/^\s+at |^Node\.js v|^\s*\^+\s*$/.test(l));
      const lastLine = lines.filter((l) => /error/i.test(l)).pop() ?? lines.pop() ?? '';
      if (error) resolve({ ok: false, reason: error.message, seconds });
      else if (timedOut) resolve({ ok: false, reason: `timed out after ${timeoutMin} min`, seconds });
      else if (code !== 0)
        resolve({
          ok: false,
          reason: `exited with ${code ?? signal}${lastLine ? `: ${lastLine.trim().slice(0, 200)}` : ''}`,
          seconds,
        });
      else resolve({ ok: true, reason: '', seconds });
    };
    child.once('error', (e) => finish(null, null, e));
    child.once('exit', (code, signal) => finish(code, signal));
  });
}

function valkeyVersion(): string {
  const r = spawnSync('valkey-server', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return 'valkey-server not found';
  const v = /v=(\S+)/.exec(r.stdout);
  return v ? `Valkey ${v[1]}` : r.stdout.trim();
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (pretty) return `${pretty[1]} (${os.type()} ${os.release()})`;
  } catch {
    // not Linux
  }
  return `${os.type()} ${os.release()}`;
}

const startedAt = new Date();
const loadBefore = os.loadavg();
const t0 = performance.now();
const tmp = mkdtempSync(join(os.tmpdir(), 'cdc-cache-bench-'));
const results: BenchResult[] = [];
const failures: BenchFailure[] = [];
const commands: { command: string; seconds: number; ok: boolean }[] = [];
/** Groups whose prerequisite step (a build) failed: their benchmarks are skipped. */
const brokenGroups = new Set<string>();
try {
  for (const step of STEPS) {
    if (!wanted.includes(step.group)) continue;
    const command = `node ${step.args.join(' ')}`;
    if (brokenGroups.has(step.group)) {
      failures.push({ bench: step.group, reason: 'skipped: its build step failed', command });
      continue;
    }
    const why = await missing(step.requires);
    if (why !== undefined) {
      const mode = step.args.indexOf('--mode');
      console.error(`\nbench: ${step.group}: ${command}: ${why}`);
      failures.push({
        bench: mode >= 0 ? `${step.group} (${step.args[mode + 1]})` : step.group,
        reason: why,
        command,
      });
      if (step.prerequisite) brokenGroups.add(step.group);
      continue;
    }
    for (let i = 0; i < step.times; i++) {
      const jsonFile = join(tmp, `${commands.length}.jsonl`);
      writeFileSync(jsonFile, '');
      console.log(`\n== ${step.group}${step.times > 1 ? ` (run ${i + 1}/${step.times})` : ''}: ${command}`);
      const r = await runChild(step.args, jsonFile, step.timeoutMin);
      commands.push({ command, seconds: r.seconds, ok: r.ok });
      const parsed = parseResultLines(readFileSync(jsonFile, 'utf8'));
      results.push(...parsed.results);
      const mode = step.args.indexOf('--mode');
      const name =
        step.args[0]!.replace(/^bench\//, '').replace(/\.ts$/, '') +
        (mode >= 0 ? ` ${step.args[mode + 1]}` : '');
      if (!r.ok) {
        failures.push({ bench: `${step.group} (${name})`, reason: r.reason, command });
        if (step.prerequisite) brokenGroups.add(step.group);
        break; // a benchmark that failed once is not repeated
      }
      if (parsed.errors.length > 0) {
        failures.push({
          bench: `${step.group} (${name})`,
          reason: `malformed result lines: ${parsed.errors.slice(0, 3).join('; ')}`,
          command,
        });
      }
      if (!step.prerequisite && parsed.results.length === 0 && parsed.errors.length === 0) {
        failures.push({
          bench: `${step.group} (${name})`,
          reason: `reported no results (it does not write ${BENCH_JSON_ENV} lines yet)`,
          command,
        });
        break;
      }
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const rows = aggregate(results);
const machine: MachineInfo = {
  cpu: os.cpus()[0]?.model ?? 'unknown CPU',
  cores: os.cpus().length,
  memoryGiB: os.totalmem() / 2 ** 30,
  os: osName(),
  node: process.version,
  valkey: valkeyVersion(),
  loadBefore,
  loadAfter: os.loadavg(),
};
const durationSec = (performance.now() - t0) / 1000;
const suiteCommand = `node bench/run.ts ${process.argv.slice(2).join(' ')}`.trim();
console.log(
  `\n== Summary: ${suiteCommand} (${durationSec.toFixed(0)} s; load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} → ${machine.loadAfter.map((l) => l.toFixed(2)).join(' ')})\n`,
);
console.log(renderTable(rows, failures));
if (values.write) {
  const section = renderReport({
    startedAt: startedAt.toISOString(),
    durationSec,
    quick,
    runs: R,
    suiteCommand,
    machine,
    rows,
    failures,
    commands,
  });
  const existing = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : '';
  writeFileSync(RESULTS_FILE, prependReport(existing, RESULTS_HEADER, section));
  console.log(`\nbench: wrote ${RESULTS_FILE}`);
}
if (failures.length > 0) {
  console.error(`\nbench: ${failures.length} benchmark(s) FAILED (see the table)`);
  process.exitCode = 1;
}
