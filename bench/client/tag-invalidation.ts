/**
 * One tag invalidation removing every entry of a tag (1,000 and 10,000 entries per tag): time from
 * the op sent to the target's confirmation, and CPU per entry (server and this client process),
 * on the in-process engine, the engine server, a private Valkey and, when the harness cluster is
 * configured (CDC_CACHE_VALKEY_CLUSTER_NODES), the 3-master Valkey cluster. Each round seeds a fresh
 * tag (values plus the tag's members, as that many tagged fills leave them), then applies the
 * rules' op `invalidateTag` through the target: the paged protocol of
 * docs/soft-invalidation-and-tags.md. The engine server's row is compared with Valkey standalone's.
 *
 *   node bench/client/tag-invalidation.ts [--sizes 1000,10000] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { Cluster, Valkey } from 'iovalkey';
import type { CacheTarget } from '../../core/targets/cache-target.ts';
import { createEngineTarget, type EngineTarget } from '../../core/targets/engine/engine-target.ts';
import { createEngineRemoteTarget } from '../../core/targets/engine-remote/engine-remote-target.ts';
import { tagStateKeys } from '../../core/targets/valkey/valkey-keys.ts';
import { createValkeyTarget, type ValkeyTarget } from '../../core/targets/valkey/valkey-target.ts';
import { processCpuSeconds, startEngineChild, startValkeyServer } from '../engine/harness.ts';
import { emitResult, median } from '../suite.ts';

const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,10000' }, rounds: { type: 'string', default: '3' } },
});
const SIZES = values.sizes.split(',').map(Number);
const ROUNDS = Number(values.rounds);
if (SIZES.some((n) => !(n > 0)) || !(ROUNDS >= 1)) {
  console.error('tag-invalidation: --sizes takes positive counts, --rounds a count >= 1');
  process.exit(2);
}
const command = `node bench/client/tag-invalidation.ts --sizes ${SIZES.join(',')} --rounds ${ROUNDS}`;
const TTL = 600_000;
let version = 1000;

/** One target under measurement: how to seed a tag and how much server CPU it has used. */
interface Subject {
  name: string;
  target: CacheTarget;
  seed(tag: string, keys: readonly string[]): Promise<void>;
  /** Server CPU seconds so far (in-process: 0, its CPU is the client's). */
  serverCpu(): Promise<number>;
  close(): Promise<void>;
}

async function valkeyCpu(client: Valkey | Cluster): Promise<number> {
  let total = 0;
  const nodes = 'nodes' in client ? client.nodes('master') : [client];
  for (const node of nodes) {
    const info = (await node.info('cpu')) as string;
    total += Number(/used_cpu_sys:([\d.]+)/.exec(info)![1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)![1]);
  }
  return total;
}

async function seedValkey(target: ValkeyTarget, tag: string, keys: readonly string[]): Promise<void> {
  const members = tagStateKeys(tag).members;
  for (let at = 0; at < keys.length; at += 1000) {
    const chunk = keys.slice(at, at + 1000);
    if (target.kind === 'valkey') {
      const p = target.client.pipeline();
      for (const k of chunk) p.set(k, 'v', 'PX', TTL);
      await p.exec();
    } else await Promise.all(chunk.map((k) => target.client.set(k, 'v', 'PX', TTL)));
    await target.client.sadd(members, ...chunk);
  }
  await target.client.pexpire(members, TTL);
}

function valkeySubject(name: string, target: ValkeyTarget, stop: () => Promise<void>): Subject {
  return {
    name,
    target,
    seed: (tag, keys) => seedValkey(target, tag, keys),
    serverCpu: () => valkeyCpu(target.client),
    close: async () => {
      await target.close();
      await stop();
    },
  };
}

function inProcessSubject(): Subject {
  const target: EngineTarget = createEngineTarget();
  return {
    name: 'engine in-process',
    target,
    async seed(tag, keys) {
      for (const k of keys) {
        target.engine.set(k, 'v', { ttlMs: TTL });
        target.engine.joinTags(k, [tag], TTL);
      }
    },
    serverCpu: async () => 0,
    close: () => target.close(),
  };
}

async function engineServerSubject(): Promise<Subject> {
  const server = await startEngineChild();
  const target = createEngineRemoteTarget({ url: `valkey://127.0.0.1:${server.port}` });
  return {
    name: 'engine server',
    target,
    async seed(tag, keys) {
      for (let at = 0; at < keys.length; at += 1000) {
        const p = target.client.pipeline();
        for (const k of keys.slice(at, at + 1000)) {
          p.set(k, 'v', 'PX', TTL);
          p.call('CACHE.TAGJOIN', k, String(TTL), tag);
        }
        await p.exec();
      }
    },
    serverCpu: async () => processCpuSeconds(server.child.pid!),
    close: async () => {
      await target.close();
      await server.stop();
    },
  };
}

interface Row {
  ms: number[];
  serverUsPerEntry: number[];
  clientUsPerEntry: number[];
}

async function measure(subject: Subject, size: number): Promise<Row> {
  const row: Row = { ms: [], serverUsPerEntry: [], clientUsPerEntry: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const ns = `tagbench:${randomBytes(4).toString('hex')}:`;
    const tag = `${ns}tenant`;
    const keys = Array.from({ length: size }, (_, i) => `${ns}e:${i}`);
    await subject.seed(tag, keys);
    version++;
    const server0 = await subject.serverCpu();
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const [result] = await subject.target.apply([{ kind: 'invalidateTag', tag, version: String(version) }]);
    const ms = performance.now() - t0;
    const client = process.cpuUsage(client0);
    const server = (await subject.serverCpu()) - server0;
    if (!result?.ok || result.outcome !== 'applied')
      throw new Error(`${subject.name}: ${JSON.stringify(result)}`);
    const left = await subject.target.get(keys[size - 1]!);
    if (left !== null) throw new Error(`${subject.name}: ${keys[size - 1]} survived the tag invalidation`);
    row.ms.push(ms);
    row.serverUsPerEntry.push((server * 1e6) / size);
    row.clientUsPerEntry.push((client.user + client.system) / size);
  }
  return row;
}

const subjects: (() => Promise<Subject>)[] = [
  async () => inProcessSubject(),
  engineServerSubject,
  async () => {
    const server = await startValkeyServer();
    const target = await createValkeyTarget({ url: `valkey://127.0.0.1:${server.port}` });
    return valkeySubject('Valkey standalone', target, () => server.stop());
  },
];
const clusterNodes = process.env.CDC_CACHE_VALKEY_CLUSTER_NODES;
if (clusterNodes) {
  subjects.push(async () => {
    const target = await createValkeyTarget({ url: `valkey://${clusterNodes}` });
    return valkeySubject('Valkey 3-master cluster', target, async () => {});
  });
}

const rows = new Map<string, Row>();
for (const open of subjects) {
  const subject = await open();
  try {
    for (const size of SIZES) rows.set(`${subject.name}|${size}`, await measure(subject, size));
  } finally {
    await subject.close();
  }
}

const r2 = (x: number) => Number(x.toFixed(2));
for (const [id, row] of rows) {
  const [name, size] = id.split('|') as [string, string];
  const valkey = name === 'engine server' ? rows.get(`Valkey standalone|${size}`) : undefined;
  const result = {
    bench: 'tag-invalidation',
    metric: `one tag invalidation, ${Number(size).toLocaleString('en')} entries, ${name}, ms`,
    value: r2(median(row.ms)),
    unit: 'ms',
    better: 'lower' as const,
    ...(valkey === undefined
      ? {}
      : {
          peer: 'the same on Valkey standalone (Lua scripts, paged)',
          peerValue: r2(median(valkey.ms)),
          ratio: r2(median(row.ms) / median(valkey.ms)),
        }),
    samples: ROUNDS,
    command,
    note: `CPU per entry: server ${r2(median(row.serverUsPerEntry))} µs, client ${r2(median(row.clientUsPerEntry))} µs${valkey === undefined ? '' : `; Valkey standalone: server ${r2(median(valkey.serverUsPerEntry))} µs, client ${r2(median(valkey.clientUsPerEntry))} µs`}`,
  };
  emitResult(result);
  console.log(JSON.stringify(result));
}
