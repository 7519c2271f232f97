/**
 * A change applied by the CDC target → every one of 4 app processes' near caches invalidated
 * (issue 18: p99 ≤ 5 ms). Per iteration: a key is refreshed through the target (versioned, as the
 * CDC pipeline writes), each app process reads it until it is served from its near cache, then the
 * target applies a versioned invalidate (the CDC path: the fenced Lua script on Valkey,
 * CACHE.INVALIDATE on the engine) and each process timestamps the invalidation reaching its near
 * cache. Latency is from the target's apply confirmed (and, for reference, from the apply sent) to
 * each arrival and to the last of the 4. Servers run in their own processes (private valkey-server,
 * engine server child); the 4 app processes are Node children (bench/client/near-invalidation-child.ts).
 *
 *   node bench/client/near-invalidation.ts [--iterations 300] [--apps 4]
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { createEngineRemoteTarget } from '../../core/targets/engine-remote/engine-remote-target.ts';
import { createValkeyTarget } from '../../core/targets/valkey/valkey-target.ts';
import { type BenchServer, startEngineChild, startValkeyServer } from '../engine/harness.ts';
import { emitResult, percentile } from '../suite.ts';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '300' }, apps: { type: 'string', default: '4' } },
});
const ITERATIONS = Number(values.iterations);
const APPS = Number(values.apps);
const WARMUP = Math.min(30, ITERATIONS);
const CHILD = fileURLToPath(new URL('./near-invalidation-child.ts', import.meta.url));
const command = `node bench/client/near-invalidation.ts --iterations ${ITERATIONS} --apps ${APPS}`;

interface App {
  child: ChildProcess;
  next(test: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function startApp(url: string): Promise<App> {
  const child = fork(CHILD, [url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiting: {
    test: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
  }[] = [];
  child.on('message', (m: Record<string, unknown>) => {
    const i = waiting.findIndex((w) => w.test(m));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  });
  const app: App = {
    child,
    next: (test) => new Promise((resolve) => waiting.push({ test, resolve })),
  };
  return app.next((m) => m.ready === true).then(() => app);
}

async function measure(server: BenchServer): Promise<void> {
  const url =
    server.name === 'engine' ? `engine://127.0.0.1:${server.port}` : `valkey://127.0.0.1:${server.port}`;
  const cdc: CacheTarget =
    server.name === 'engine'
      ? createEngineRemoteTarget({ url: `valkey://127.0.0.1:${server.port}` })
      : await createValkeyTarget({ url });
  const apps = await Promise.all(Array.from({ length: APPS }, () => startApp(url)));
  const fromApplied: number[] = [];
  const fromSent: number[] = [];
  const allFromApplied: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const key = `near-inv:${i % 32}`;
    await cdc.apply([
      { kind: 'refresh', key, value: JSON.stringify({ i }), ttlMs: 0, version: String(2 * i + 1) },
    ]);
    await Promise.all(apps.map((a) => a.child.send({ prime: key }) && a.next((m) => m.primed === key)));
    const arrivals = apps.map((a) => a.next((m) => m.key === key));
    const sent = process.hrtime.bigint();
    await cdc.apply([{ kind: 'invalidate', key, version: String(2 * i + 2) }]);
    const applied = process.hrtime.bigint();
    const ats = (await Promise.all(arrivals)).map((m) => BigInt(m.at as string));
    if (i < WARMUP) continue;
    let worst = Number.NEGATIVE_INFINITY;
    for (const at of ats) {
      const ms = Number(at - applied) / 1e6;
      fromApplied.push(ms);
      fromSent.push(Number(at - sent) / 1e6);
      worst = Math.max(worst, ms);
    }
    allFromApplied.push(worst);
  }
  for (const a of apps) a.child.send({ stop: true });
  await cdc.close();
  const r3 = (x: number) => Number(x.toFixed(3));
  const change = server.name === 'engine' ? 'CACHE.INVALIDATE' : 'fenced invalidate script';
  const base = { unit: 'ms', better: 'lower' as const, samples: ITERATIONS, command };
  const rows = [
    {
      metric: `every one of ${APPS} apps' near cache invalidated after the target applied, p50`,
      value: r3(percentile(allFromApplied, 0.5)),
    },
    {
      metric: `every one of ${APPS} apps' near cache invalidated after the target applied, p99`,
      value: r3(percentile(allFromApplied, 0.99)),
      target: 5,
    },
  ];
  for (const row of rows) {
    const result = {
      bench: `near-invalidation-${server.name}`,
      ...row,
      ...base,
      note: `change: ${change}; per arrival after applied p50/p99 ${r3(percentile(fromApplied, 0.5))}/${r3(percentile(fromApplied, 0.99))} ms; after sent p50/p99 ${r3(percentile(fromSent, 0.5))}/${r3(percentile(fromSent, 0.99))} ms`,
    };
    emitResult(result);
    console.log(JSON.stringify(result));
  }
}

for (const start of [startEngineChild, startValkeyServer]) {
  const server = await start();
  try {
    await measure(server);
  } finally {
    await server.stop();
  }
}
