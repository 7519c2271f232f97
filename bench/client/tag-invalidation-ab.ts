/**
 * A/B of Valkey tag invalidation in one process: the Valkey target of another checkout (`--base`,
 * e.g. /work/main) and this checkout's, on the same servers, rounds interleaved (which goes first
 * alternates). Per round a fresh tag of `--size` entries is seeded (values and the tag's members,
 * as that many tagged fills leave them) and the rules' `invalidateTag` op applied; reported: time
 * to the confirmation and CPU per entry, server (every master) and this process. Servers: a
 * private valkey-server, and, when CDC_CACHE_VALKEY_CLUSTER_NODES names the harness cluster, the
 * cluster twice: keys in slots of their own, and every key under one hash tag (`{…}`, one slot).
 *
 *   node bench/client/tag-invalidation-ab.ts --base /work/main [--size 10000] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Cluster, Valkey } from 'iovalkey';
import { tagStateKeys } from '../../core/targets/valkey/valkey-keys.ts';
import type { ValkeyTarget, ValkeyTargetOptions } from '../../core/targets/valkey/valkey-target.ts';
import { createValkeyTarget } from '../../core/targets/valkey/valkey-target.ts';
import { startValkeyServer } from '../engine/harness.ts';
import { median } from '../suite.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    size: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '3' },
  },
});
if (values.base === undefined) throw new Error('--base DIR: a checkout to compare with (e.g. /work/main)');
const SIZE = Number(values.size);
const ROUNDS = Number(values.rounds);
const TTL = 600_000;
let version = 1000;

type Create = (options: ValkeyTargetOptions) => Promise<ValkeyTarget>;
const baseCreate = (
  (await import(resolve(values.base, 'core/targets/valkey/valkey-target.ts'))) as {
    createValkeyTarget: Create;
  }
).createValkeyTarget;

async function serverCpu(client: Valkey | Cluster): Promise<number> {
  let total = 0;
  for (const node of 'nodes' in client ? client.nodes('master') : [client]) {
    const info = (await node.info('cpu')) as string;
    total += Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
  }
  return total;
}

interface Sample {
  ms: number;
  serverUs: number;
  clientUs: number;
}

async function once(target: ValkeyTarget, oneSlot: boolean): Promise<Sample> {
  const ns = `tagab:${randomBytes(4).toString('hex')}:`;
  const tag = `${ns}tenant`;
  const keys = Array.from({ length: SIZE }, (_, i) => (oneSlot ? `{${ns}c}:e:${i}` : `${ns}e:${i}`));
  const members = tagStateKeys(tag).members;
  for (let at = 0; at < SIZE; at += 1000) {
    const chunk = keys.slice(at, at + 1000);
    await Promise.all(chunk.map((k) => target.client.set(k, 'v', 'PX', TTL)));
    await target.client.sadd(members, ...chunk);
  }
  await target.client.pexpire(members, TTL);
  version++;
  const s0 = await serverCpu(target.client);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const [result] = await target.apply([{ kind: 'invalidateTag', tag, version: String(version) }]);
  const ms = performance.now() - t0;
  const client = process.cpuUsage(c0);
  const server = (await serverCpu(target.client)) - s0;
  if (!result?.ok || result.outcome !== 'applied')
    throw new Error(`tag invalidation: ${JSON.stringify(result)}`);
  for (const k of [keys[0]!, keys[SIZE - 1]!])
    if ((await target.client.exists(k)) !== 0) throw new Error(`${k} survived the tag invalidation`);
  return { ms, serverUs: (server * 1e6) / SIZE, clientUs: (client.user + client.system) / SIZE };
}

const private_ = await startValkeyServer();
const setups: { name: string; url: string; oneSlot: boolean }[] = [
  { name: 'standalone', url: `valkey://127.0.0.1:${private_.port}`, oneSlot: false },
];
const nodes = process.env.CDC_CACHE_VALKEY_CLUSTER_NODES;
if (nodes) {
  setups.push({ name: 'cluster, keys in their own slots', url: `valkey://${nodes}`, oneSlot: false });
  setups.push({ name: 'cluster, one hash tag', url: `valkey://${nodes}`, oneSlot: true });
}
const f = (xs: Sample[], k: keyof Sample) => median(xs.map((x) => x[k])).toFixed(2);
console.log(`load average ${loadavg()[0]!.toFixed(1)}; ${SIZE} entries, ${ROUNDS} rounds`);
try {
  for (const setup of setups) {
    const a = await baseCreate({ url: setup.url });
    const b = await createValkeyTarget({ url: setup.url });
    const base: Sample[] = [];
    const ours: Sample[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) {
        base.push(await once(a, setup.oneSlot));
        ours.push(await once(b, setup.oneSlot));
      } else {
        ours.push(await once(b, setup.oneSlot));
        base.push(await once(a, setup.oneSlot));
      }
    }
    await a.close();
    await b.close();
    console.log(
      `${setup.name}: base ${f(base, 'ms')} ms (server ${f(base, 'serverUs')} µs, client ${f(base, 'clientUs')} µs per entry); ` +
        `this checkout ${f(ours, 'ms')} ms (server ${f(ours, 'serverUs')} µs, client ${f(ours, 'clientUs')} µs per entry)`,
    );
  }
} finally {
  await private_.stop();
}
