/**
 * Server throughput, engine vs Valkey 8 side by side in one run: valkey-benchmark, 50 clients, SET
 * and GET, without pipelining and with -P 16, over plain TCP and (`--tls`) over TLS with both
 * servers on a throwaway self-signed certificate. Prints requests/second and engine/Valkey ratios.
 *
 *   node bench/engine/server-throughput.ts [requests=1000000] [rounds=3] [--tls]
 */
import {
  type BenchServer,
  type BenchTls,
  makeBenchCert,
  startEngineChild,
  startValkeyServer,
  valkeyBenchmark,
} from './harness.ts';

/** One row of results. */
export interface ThroughputRow {
  /** True for the TLS rows (both servers serving TLS, valkey-benchmark --tls). */
  tls: boolean;
  pipeline: number;
  test: string;
  valkey: number;
  engine: number;
  ratio: number;
}

/**
 * Runs the comparison. Per configuration, `rounds` rounds each run Valkey then the engine back to
 * back; the reported ratio is the median of the per-round ratios and the rps are medians, so load
 * from other processes on a shared machine skews both sides of a round alike.
 */
export async function runServerThroughput(
  requests: number,
  rounds = 3,
  tls?: BenchTls,
): Promise<ThroughputRow[]> {
  const servers: BenchServer[] = [
    await startValkeyServer(undefined, tls),
    await startEngineChild(undefined, tls),
  ];
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  try {
    const rows: ThroughputRow[] = [];
    for (const pipeline of [1, 16]) {
      const perTest = new Map<string, { valkey: number[]; engine: number[]; ratio: number[] }>();
      for (let round = 0; round < rounds; round++) {
        const [v, e] = [
          await valkeyBenchmark(servers[0]!.port, requests, pipeline, tls),
          await valkeyBenchmark(servers[1]!.port, requests, pipeline, tls),
        ];
        for (const test of ['SET', 'GET']) {
          const acc = perTest.get(test) ?? { valkey: [], engine: [], ratio: [] };
          perTest.set(test, acc);
          acc.valkey.push(v[test] ?? 0);
          acc.engine.push(e[test] ?? 0);
          acc.ratio.push((e[test] ?? 0) / (v[test] || 1));
        }
      }
      for (const [test, acc] of perTest) {
        rows.push({
          tls: tls !== undefined,
          pipeline,
          test,
          valkey: Math.round(median(acc.valkey)),
          engine: Math.round(median(acc.engine)),
          ratio: Number(median(acc.ratio).toFixed(2)),
        });
      }
    }
    return rows;
  } finally {
    for (const s of servers) await s.stop();
  }
}

if (import.meta.main) {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const requests = Number(positional[0] ?? 1_000_000);
  const rounds = Number(positional[1] ?? 3);
  const rows = await runServerThroughput(requests, rounds);
  if (process.argv.includes('--tls'))
    rows.push(...(await runServerThroughput(requests, rounds, makeBenchCert())));
  for (const r of rows) {
    process.stdout.write(
      `${r.tls ? 'TLS ' : ''}P=${r.pipeline} ${r.test}: valkey ${r.valkey} rps, engine ${r.engine} rps, ratio ${r.ratio}\n`,
    );
  }
}
