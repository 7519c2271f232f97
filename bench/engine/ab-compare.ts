/**
 * A/B comparison of engine builds against Valkey in one run: starts valkey-server and one engine
 * server per checkout given (each checkout's own bench/engine/engine-server.ts, so a change can be
 * measured against the code before it side by side), then runs each valkey-benchmark test on every
 * server in turn, round after round. Prints medians of rps and of server CPU µs per request (user
 * + system, and the user part apart: the system part is the kernel's socket work, alike for all).
 * `--warmup N` first sends N SETs over the keyspace to every server, so SET measures overwrites of
 * existing keys (the steady state) rather than a keyspace being filled.
 *
 *   node bench/engine/ab-compare.ts --checkout /work/main --checkout . [--requests 200000]
 *     [--rounds 3] [--keyspace 100000] [--tests SET,GET] [--pipelines 1,16] [--data-size 32]
 *     [--warmup 0]
 */
import { fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type BenchServer,
  freePort,
  processCpuSplit,
  startValkeyServer,
  valkeyBenchmark,
} from './harness.ts';
import { requestsAt, workloadOf } from './server-throughput.ts';

const { values } = parseArgs({
  options: {
    checkout: { type: 'string', multiple: true, default: ['.'] },
    requests: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    keyspace: { type: 'string', default: '100000' },
    tests: { type: 'string', default: 'SET,GET' },
    pipelines: { type: 'string', default: '1,16' },
    'data-size': { type: 'string', default: '32' },
    warmup: { type: 'string', default: '0' },
  },
});

async function startEngineAt(checkout: string): Promise<BenchServer> {
  const port = await freePort();
  const child = fork(resolve(checkout, 'bench/engine/engine-server.ts'), ['--port', String(port)], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((ok) => child.once('message', () => ok()));
  return {
    name: 'engine',
    port,
    child,
    stop: () =>
      new Promise((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

const requests = Number(values.requests);
const servers = [await startValkeyServer(), ...(await Promise.all(values.checkout.map(startEngineAt)))];
const names = ['valkey', ...values.checkout];
// Stopped early: stop the servers too (the engines also exit when this process disconnects).
process.once('SIGTERM', () => {
  for (const s of servers) s.child.kill('SIGTERM');
  process.exit(143);
});
process.stdout.write(
  `load average at start: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
try {
  const warmup = Number(values.warmup);
  if (warmup > 0) {
    for (const s of servers)
      await valkeyBenchmark(
        s.port,
        warmup,
        16,
        undefined,
        workloadOf('SET', Number(values.keyspace), Number(values['data-size'])),
      );
  }
  for (const pipeline of values.pipelines.split(',').map(Number)) {
    const acc = new Map<string, { rps: number[]; cpu: number[]; user: number[] }[]>();
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const test of values.tests.split(',')) {
        const perServer =
          acc.get(test) ??
          servers.map(() => ({ rps: [] as number[], cpu: [] as number[], user: [] as number[] }));
        acc.set(test, perServer);
        for (let i = 0; i < servers.length; i++) {
          const s = servers[i]!;
          const n = requestsAt(requests, pipeline);
          const c0 = processCpuSplit(s.child.pid!);
          const out = await valkeyBenchmark(
            s.port,
            n,
            pipeline,
            undefined,
            workloadOf(test, Number(values.keyspace), Number(values['data-size'])),
          );
          const c1 = processCpuSplit(s.child.pid!);
          perServer[i]!.cpu.push(((c1.user + c1.system - c0.user - c0.system) * 1e6) / n);
          perServer[i]!.user.push(((c1.user - c0.user) * 1e6) / n);
          // A custom command's row is named by its first word (SADD_SMALL → SADD).
          perServer[i]!.rps.push(out[test] ?? Object.values(out)[0] ?? 0);
        }
      }
    }
    for (const [test, perServer] of acc) {
      const cells = perServer.map(
        (p, i) =>
          `${names[i]} ${Math.round(median(p.rps))} rps ${median(p.cpu).toFixed(2)} µs (user ${median(p.user).toFixed(2)})`,
      );
      process.stdout.write(`P=${pipeline} ${test}: ${cells.join(' | ')}\n`);
    }
  }
  process.stdout.write(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
} finally {
  for (const s of servers) await s.stop();
}
