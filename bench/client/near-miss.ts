/**
 * The shape of a near-cache miss (the tracked read of core/targets/resp/stale-probe.ts): today a
 * pipeline of the soft mark's probe before and after the value (Valkey: GET s, GET v, GET K, PTTL K,
 * GET s, GET v; engine server: CACHE.STALE, GET, PTTL, CACHE.STALE) vs one read script returning
 * value, TTL and mark together (EVALSHA; on the engine it needs the optional wasmoon) vs, on the
 * engine server, its native `CACHE.READ` (the same reply in one command, no script). Per shape:
 * latency per miss (one awaited read at a time, as a miss is) and server CPU per miss, on a private
 * valkey-server and the engine server child, rounds interleaved.
 *
 *   node bench/client/near-miss.ts [--reads 20000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { Valkey } from 'iovalkey';
import { staleKey, versionKey } from '../../core/targets/valkey/valkey-keys.ts';
import {
  type BenchServer,
  processCpuSeconds,
  startEngineChild,
  startValkeyServer,
} from '../engine/harness.ts';
import { emitResult, median } from '../suite.ts';

const { values } = parseArgs({
  options: { reads: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '3' } },
});
const READS = Number(values.reads);
const ROUNDS = Number(values.rounds);
const command = `node bench/client/near-miss.ts --reads ${READS} --rounds ${ROUNDS}`;
const KEYS = 1000;

/** Valkey: value, TTL and whether the mark equals the fence's version, in one script. */
const VALKEY_READ = `local v = redis.call('GET', KEYS[1])
if not v then return nil end
local ttl = redis.call('PTTL', KEYS[1])
local mark = redis.call('GET', KEYS[3])
local stale = 0
if mark then
  local fence = redis.call('GET', KEYS[2])
  if fence and string.match(fence, '^[^ ]*') == mark then stale = 1 end
end
return {v, ttl, stale}`;

/** Engine server: the mark is native (CACHE.STALE). */
const ENGINE_READ = `local v = redis.call('GET', KEYS[1])
if not v then return nil end
return {v, redis.call('PTTL', KEYS[1]), redis.call('CACHE.STALE', KEYS[1])}`;

async function cpu(server: BenchServer, client: Valkey): Promise<number> {
  if (server.name === 'engine') return processCpuSeconds(server.child.pid!);
  const info = (await client.info('cpu')) as string;
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
}

async function measure(server: BenchServer): Promise<void> {
  const client = new Valkey({ host: '127.0.0.1', port: server.port });
  const keys = Array.from({ length: KEYS }, (_, i) => `miss:${i}`);
  const p = client.pipeline();
  for (const k of keys) {
    p.set(k, JSON.stringify({ k, name: 'customer', tier: 'gold' }), 'PX', 3_600_000);
    if (server.name === 'valkey') p.set(versionKey(k), '0210', 'PX', 3_600_000);
  }
  await p.exec();
  const engine = server.name === 'engine';
  let sha: string | undefined;
  try {
    sha = (await client.call('SCRIPT', 'LOAD', engine ? ENGINE_READ : VALKEY_READ)) as string;
  } catch (error) {
    console.error(`${server.name}: no scripting (${(error as Error).message}); pipeline only`);
  }
  const pipelined = async (k: string) => {
    const q = client.pipeline();
    if (engine) q.call('CACHE.STALE', k).getBuffer(k).pttl(k).call('CACHE.STALE', k);
    else q.get(staleKey(k)).get(versionKey(k)).getBuffer(k).pttl(k).get(staleKey(k)).get(versionKey(k));
    const r = await q.exec();
    if (!r || r[engine ? 1 : 2]?.[1] === null) throw new Error(`${k}: no value`);
  };
  const scripted = async (k: string) => {
    const r = engine
      ? await client.callBuffer('EVALSHA', sha!, '1', k)
      : await client.callBuffer('EVALSHA', sha!, '3', k, versionKey(k), staleKey(k));
    if (!Array.isArray(r)) throw new Error(`${k}: no value`);
  };
  const native = async (k: string) => {
    if (!Array.isArray(await client.callBuffer('CACHE.READ', k))) throw new Error(`${k}: no value`);
  };
  const shapes: [string, (k: string) => Promise<void>][] = [['pipeline', pipelined]];
  if (sha !== undefined) shapes.push(['script', scripted]);
  if (engine) shapes.push(['native', native]);
  const us: Record<string, number[]> = Object.fromEntries(shapes.map(([name]) => [name, []]));
  const cpuUs: Record<string, number[]> = Object.fromEntries(shapes.map(([name]) => [name, []]));
  for (const [, read] of shapes) for (let i = 0; i < 2000; i++) await read(keys[i % KEYS]!); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? shapes : [...shapes].reverse();
    for (const [name, read] of order) {
      const c0 = await cpu(server, client);
      const t0 = performance.now();
      for (let i = 0; i < READS; i++) await read(keys[(i * 7919) % KEYS]!);
      const ms = performance.now() - t0;
      const c1 = await cpu(server, client);
      us[name]!.push((ms * 1000) / READS);
      cpuUs[name]!.push(((c1 - c0) * 1e6) / READS);
    }
  }
  await client.quit();
  const r2 = (x: number) => Number(x.toFixed(2));
  const what = engine ? 'CACHE.STALE, GET, PTTL, CACHE.STALE' : 'GET s, GET v, GET K, PTTL K, GET s, GET v';
  for (const [name] of shapes) {
    const result = {
      bench: `near-miss-${server.name}`,
      metric: `near-cache miss read, ${name === 'pipeline' ? `pipeline (${what})` : name === 'script' ? 'one read script (EVALSHA)' : 'CACHE.READ'}, µs per miss`,
      value: r2(median(us[name]!)),
      unit: 'µs',
      better: 'lower' as const,
      samples: ROUNDS,
      command,
      note: `server CPU per miss ${r2(median(cpuUs[name]!))} µs; one awaited read at a time, ${READS} reads per round`,
    };
    emitResult(result);
    console.log(JSON.stringify(result));
  }
}

for (const start of [startValkeyServer, startEngineChild]) {
  const server = await start();
  try {
    await measure(server);
  } finally {
    await server.stop();
  }
}
