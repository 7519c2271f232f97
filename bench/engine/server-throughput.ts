/**
 * Server throughput, engine vs Valkey 8 side by side in one run: valkey-benchmark, 50 clients,
 * random keys (`-r`, default 100,000) and 32-byte values, without pipelining and with -P 16, over
 * plain TCP and (`--tls`) over TLS with both servers on a throwaway self-signed certificate. Each
 * test is its own valkey-benchmark run, so the server process's CPU time (user + system, from
 * /proc) is measured per test: it prints requests/second, CPU microseconds per request and the
 * engine/Valkey ratios of both. CPU per request is the steadier figure on a shared machine.
 * Pipelined runs send 4× the requests (see {@link requestsAt}).
 *
 *   node bench/engine/server-throughput.ts [requests=200000] [rounds=3] [--tls] [--keyspace 100000]
 *     [--tests SET,GET,INCR,SADD,LPUSH,ZADD,ZRANGEBYSCORE] [--pipelines 1,16]
 */
import { parseArgs } from 'node:util';
import {
  type BenchServer,
  type BenchTls,
  type BenchWorkload,
  makeBenchCert,
  processCpuSeconds,
  startEngineChild,
  startValkeyServer,
  valkeyBenchmark,
} from './harness.ts';

/** The tests the headline runs, in order (SET before GET so GET mostly hits). */
export const DEFAULT_TESTS = ['SET', 'GET', 'INCR', 'SADD', 'LPUSH', 'ZADD', 'ZRANGEBYSCORE'] as const;

/**
 * Custom commands by test name: `ZRANGEBYSCORE` on ZADD's key, and writes to small collections
 * (`*_SMALL`: each request picks one of `keyspace` keys and a member from the same range, so 200k
 * requests over 100k keys leave collections of ~2 members, compact in Valkey and the engine).
 */
const CUSTOM: Record<string, string[]> = {
  ZRANGEBYSCORE: ['ZRANGEBYSCORE', 'myzset', '__rand_int__', '+inf', 'LIMIT', '0', '10'],
  SADD_SMALL: ['SADD', 's:__rand_int__', 'member:__rand_int__'],
  ZADD_SMALL: ['ZADD', 'z:__rand_int__', '__rand_int__', 'member:__rand_int__'],
  HSET_SMALL: ['HSET', 'h:__rand_int__', 'field:__rand_int__', 'value:__rand_int__'],
};

/** The valkey-benchmark workload of one test name (a `-t` test, or one of {@link CUSTOM}). */
export function workloadOf(test: string, keyspace: number, dataSize = 32): BenchWorkload {
  const base = { ...(keyspace > 0 ? { keyspace } : {}), dataSize };
  const command = CUSTOM[test];
  if (command !== undefined) return { ...base, command };
  return { ...base, tests: test.toLowerCase() };
}

/**
 * Requests per run at a pipeline depth: 4× `requests` when pipelined, so a run lasts long enough
 * for /proc's 10 ms CPU ticks to resolve the server's CPU per request to a few percent.
 */
export function requestsAt(requests: number, pipeline: number): number {
  return pipeline > 1 ? requests * 4 : requests;
}

/** One row of results. */
export interface ThroughputRow {
  /** True for the TLS rows (both servers serving TLS, valkey-benchmark --tls). */
  tls: boolean;
  pipeline: number;
  test: string;
  valkey: number;
  engine: number;
  /** Median of the per-round engine/Valkey rps ratios. */
  ratio: number;
  /** Server CPU (user + system) microseconds per request, medians. */
  valkeyCpuUs: number;
  engineCpuUs: number;
  /** Median of the per-round engine/Valkey CPU-per-request ratios (lower is better for the engine). */
  cpuRatio: number;
}

/** Options of {@link runServerThroughput}. */
export interface ThroughputOptions {
  requests: number;
  rounds?: number;
  tls?: BenchTls;
  /** `-r` keyspace; 0 = valkey-benchmark's fixed key. @default 100000 */
  keyspace?: number;
  tests?: readonly string[];
  pipelines?: readonly number[];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * Runs the comparison. Per pipeline depth and round, each test runs on Valkey then on the engine
 * back to back; rps, CPU per request and their ratios are medians over the rounds (ratios: median
 * of the per-round ratios), so load from other processes skews both sides of a round alike.
 */
export async function runServerThroughput(opts: ThroughputOptions): Promise<ThroughputRow[]> {
  const { requests, rounds = 3, tls, keyspace = 100_000 } = opts;
  const tests = opts.tests ?? DEFAULT_TESTS;
  const servers: BenchServer[] = [
    await startValkeyServer(undefined, tls),
    await startEngineChild(undefined, tls),
  ];
  const measure = async (server: BenchServer, pipeline: number, test: string) => {
    const n = requestsAt(requests, pipeline);
    const cpu0 = processCpuSeconds(server.child.pid!);
    const out = await valkeyBenchmark(server.port, n, pipeline, tls, workloadOf(test, keyspace));
    const cpu = processCpuSeconds(server.child.pid!) - cpu0;
    return { rps: out[test] ?? 0, cpuUs: (cpu * 1e6) / n };
  };
  try {
    const rows: ThroughputRow[] = [];
    for (const pipeline of opts.pipelines ?? [1, 16]) {
      const acc = new Map<
        string,
        { v: number[]; e: number[]; r: number[]; vc: number[]; ec: number[]; cr: number[] }
      >();
      for (let round = 0; round < rounds; round++) {
        for (const test of tests) {
          const v = await measure(servers[0]!, pipeline, test);
          const e = await measure(servers[1]!, pipeline, test);
          const a = acc.get(test) ?? { v: [], e: [], r: [], vc: [], ec: [], cr: [] };
          acc.set(test, a);
          a.v.push(v.rps);
          a.e.push(e.rps);
          a.r.push(e.rps / (v.rps || 1));
          a.vc.push(v.cpuUs);
          a.ec.push(e.cpuUs);
          a.cr.push(e.cpuUs / (v.cpuUs || 1));
        }
      }
      for (const [test, a] of acc) {
        rows.push({
          tls: tls !== undefined,
          pipeline,
          test,
          valkey: Math.round(median(a.v)),
          engine: Math.round(median(a.e)),
          ratio: Number(median(a.r).toFixed(2)),
          valkeyCpuUs: Number(median(a.vc).toFixed(2)),
          engineCpuUs: Number(median(a.ec).toFixed(2)),
          cpuRatio: Number(median(a.cr).toFixed(2)),
        });
      }
    }
    return rows;
  } finally {
    for (const s of servers) await s.stop();
  }
}

/** One printable line of a row. */
export function formatRow(r: ThroughputRow): string {
  return (
    `${r.tls ? 'TLS ' : ''}P=${r.pipeline} ${r.test}: valkey ${r.valkey} rps ${r.valkeyCpuUs} µs CPU/req, ` +
    `engine ${r.engine} rps ${r.engineCpuUs} µs CPU/req, ratio ${r.ratio} (CPU/req ${r.cpuRatio})`
  );
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tls: { type: 'boolean', default: false },
      keyspace: { type: 'string', default: '100000' },
      tests: { type: 'string' },
      pipelines: { type: 'string', default: '1,16' },
    },
  });
  const requests = Number(positionals[0] ?? 200_000);
  const rounds = Number(positionals[1] ?? 3);
  const common = {
    requests,
    rounds,
    keyspace: Number(values.keyspace),
    pipelines: values.pipelines.split(',').map(Number),
    ...(values.tests ? { tests: values.tests.split(',').map((t) => t.toUpperCase()) } : {}),
  };
  process.stdout.write(
    `load average at start: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const print = (rows: ThroughputRow[]) => {
    for (const r of rows) process.stdout.write(`${formatRow(r)}\n`);
  };
  print(await runServerThroughput(common));
  if (values.tls) print(await runServerThroughput({ ...common, tls: makeBenchCert() }));
}
