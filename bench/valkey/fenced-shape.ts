/**
 * Benchmark (not a test): the server cost of one fenced op, per script shape, side by side in one
 * run. The same op stream (refresh with a 100-byte value / invalidate, half each, increasing
 * versions, a few replayed older ones that are fenced) goes through each shape's APPLY script in
 * chunks of 256 ops, interleaved A B A B … so machine load hits every shape alike. Per shape: the
 * server's µs per op (INFO commandstats usec of EVALSHA/FCALL ÷ ops), the server's CPU per op
 * (INFO used_cpu_sys + used_cpu_user), the client's CPU per op (process.cpuUsage) and ops/s; beside
 * them `valkey-benchmark -P 64 DEL` on the same server as the peer.
 *
 *   node bench/valkey/fenced-shape.ts [--ops 200000] [--keys 50000] [--rounds 3] [--invalidate-only]
 *
 * `--invalidate-only` sends only invalidations (the stream of bench/valkey/apply.ts: update/create →
 * invalidate), still every 50th one stale.
 *
 * Shapes: `current` is valkey-scripts.ts's APPLY (whatever it is in this checkout; layout 2: version
 * and lease in one sibling, expiries as PXAT from one server TIME per call), and the same with
 * `legacyLeases` on (an upgrade: layout-1 lease siblings deleted too); `layout 2, PX` the same layout
 * as first released (relative `PX` expiries, which the server rewrites into PXAT on every SET); `v1` is the shape before issue 20 (GET version, SET value, SET version, DEL
 * lease, EVAL compatibility mode) and `layout 1, SET…GET` the first issue-20 shape (version sibling
 * read and written by one SET … GET, leases in a separate sibling, one DEL per call), both from
 * test/support/apply-shapes.ts. It starts its own valkey-server on a free port.
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis as Valkey } from 'iovalkey';
import { versionSortKey } from '../../core/event/version.ts';
import { APPLY } from '../../core/targets/valkey/valkey-scripts.ts';
import { APPLY_L1, APPLY_L2_PX, APPLY_V1 } from '../../test/support/apply-shapes.ts';
import { startOwnValkey } from '../../test/support/own-valkey.ts';
import { median } from '../suite.ts';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '200000' },
    keys: { type: 'string', default: '50000' },
    rounds: { type: 'string', default: '3' },
    'invalidate-only': { type: 'boolean', default: false },
  },
});
const OPS = Number(values.ops);
const KEYS = Number(values.keys);
const ROUNDS = Number(values.rounds);
const INVALIDATE_ONLY = values['invalidate-only'];
const CHUNK = 256;
const PIPELINE = 8; // chunks per pipeline
const IN_FLIGHT = 4;

interface Shape {
  name: string;
  call(p: ReturnType<Valkey['pipeline']>, keys: string[], args: string[]): void;
  stat: string;
}

const server = await startOwnValkey();
const cli = (...args: string[]) =>
  execFileSync('valkey-cli', ['-p', String(server.port), ...args], { encoding: 'utf8' });
const client = new Valkey(server.port, '127.0.0.1');
for (const s of [APPLY, APPLY_L2_PX, APPLY_L1, APPLY_V1]) await client.call('SCRIPT', 'LOAD', s.lua);
// Layout-1 shapes take `kinds tomb ops…`; the current one `kinds tomb legacyLeases ops…`.
const withFlag = (a: string[], flag: string) => [a[0]!, a[1]!, flag, ...a.slice(2)];
const shapes: Shape[] = [
  {
    name: 'v1 (before issue 20)',
    stat: 'evalsha',
    call: (p, k, a) => p.evalsha(APPLY_V1.sha, k.length, ...k, ...a),
  },
  {
    name: 'layout 1, SET…GET',
    stat: 'evalsha',
    call: (p, k, a) => p.evalsha(APPLY_L1.sha, k.length, ...k, ...a),
  },
  {
    name: 'layout 2, PX (as first released)',
    stat: 'evalsha',
    call: (p, k, a) => p.evalsha(APPLY_L2_PX.sha, k.length, ...k, ...withFlag(a, '0')),
  },
  {
    name: 'current (layout 2)',
    stat: 'evalsha',
    call: (p, k, a) => p.evalsha(APPLY.sha, k.length, ...k, ...withFlag(a, '0')),
  },
  {
    name: 'current, legacyLeases on',
    stat: 'evalsha',
    call: (p, k, a) => p.evalsha(APPLY.sha, k.length, ...k, ...withFlag(a, '1')),
  },
];

let version = 1_000_000;
const value = 'x'.repeat(100);
/** One round's chunks for shape `s` (its own key space), fresh versions. */
function chunks(s: number): { keys: string[]; args: string[] }[] {
  const out: { keys: string[]; args: string[] }[] = [];
  for (let i = 0; i < OPS; i += CHUNK) {
    const keys: string[] = [];
    let kinds = '';
    const rest: string[] = [];
    for (let j = i; j < Math.min(OPS, i + CHUNK); j++) {
      keys.push(`s${s}:customer:${(j * 7919) % KEYS}`);
      // Every 50th op replays an older version: fenced.
      const v = versionSortKey(String(j % 50 === 49 ? version - 1000 : version++));
      if (!INVALIDATE_ONLY && j % 2 === 0) {
        kinds += 'r';
        rest.push(v, '600000', value);
      } else {
        kinds += 'i';
        rest.push(v);
      }
    }
    out.push({ keys, args: [kinds, '300000', ...rest] });
  }
  return out;
}

async function run(shape: Shape, work: { keys: string[]; args: string[] }[]) {
  const pipes: (typeof work)[] = [];
  for (let i = 0; i < work.length; i += PIPELINE) pipes.push(work.slice(i, i + PIPELINE));
  let next = 0;
  const worker = async () => {
    while (next < pipes.length) {
      const p = client.pipeline();
      for (const c of pipes[next++]!) shape.call(p, c.keys, c.args);
      for (const [err] of (await p.exec()) ?? []) if (err) throw err;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

const serverCpu = () => {
  const info = cli('INFO', 'cpu');
  const n = (f: string) => Number(new RegExp(`${f}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return n('used_cpu_sys') + n('used_cpu_user');
};
const rows = new Map<string, { us: number[]; srvCpu: number[]; cliCpu: number[]; rate: number[] }>();
const loadAtStart = loadavg();
for (let round = 0; round < ROUNDS; round++) {
  for (const [s, shape] of shapes.entries()) {
    const work = chunks(s);
    cli('CONFIG', 'RESETSTAT');
    const c0 = process.cpuUsage();
    const s0 = serverCpu();
    const t0 = performance.now();
    await run(shape, work);
    const secs = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const s1 = serverCpu();
    const stat = new RegExp(`cmdstat_${shape.stat}:calls=\\d+,usec=(\\d+)`).exec(cli('INFO', 'commandstats'));
    const r = rows.get(shape.name) ?? { us: [], srvCpu: [], cliCpu: [], rate: [] };
    r.us.push(Number(stat?.[1]) / OPS);
    r.srvCpu.push(((s1 - s0) * 1e6) / OPS);
    r.cliCpu.push((c.user + c.system) / OPS);
    r.rate.push(OPS / secs);
    rows.set(shape.name, r);
    console.log(
      `round ${round + 1} ${shape.name}: ${Math.round(OPS / secs)} ops/s, server ${r.us.at(-1)!.toFixed(2)} µs/op (cpu ${r.srvCpu.at(-1)!.toFixed(2)}), client cpu ${r.cliCpu.at(-1)!.toFixed(2)} µs/op`,
    );
  }
}
const del = execFileSync(
  'valkey-benchmark',
  [
    ...[
      '-h',
      '127.0.0.1',
      '-p',
      String(server.port),
      '-n',
      String(OPS),
      '-r',
      String(KEYS),
      '-P',
      '64',
      '-q',
    ],
    ...['DEL', 'customer:__rand_int__'],
  ],
  { encoding: 'utf8' },
);
const delRate = Number(/([\d.]+) requests per second/.exec(del)?.[1]);
cli('CONFIG', 'RESETSTAT');
execFileSync('valkey-benchmark', [
  '-p',
  String(server.port),
  '-n',
  String(OPS),
  '-r',
  String(KEYS),
  '-P',
  '64',
  '-q',
  'DEL',
  'customer:__rand_int__',
]);
const delUs = Number(
  /cmdstat_del:calls=\d+,usec=\d+,usec_per_call=([\d.]+)/.exec(cli('INFO', 'commandstats'))?.[1],
);
console.log(
  `\n${INVALIDATE_ONLY ? 'invalidations only' : 'half refresh, half invalidate'}; ${OPS} ops × ${ROUNDS} rounds per shape, ${KEYS} keys, chunks of ${CHUNK}, ${PIPELINE} chunks per pipeline, ${IN_FLIGHT} in flight; ${cpus().length} × ${cpus()[0]?.model}; load ${loadAtStart.map((x) => x.toFixed(1)).join(' ')} → ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
console.log(
  '| shape | server µs/op (commandstats) | server CPU µs/op (INFO cpu) | client CPU µs/op | ops/s | vs DEL -P 64 |',
);
console.log('| --- | --- | --- | --- | --- | --- |');
for (const [name, r] of rows) {
  console.log(
    `| ${name} | ${median(r.us).toFixed(2)} | ${median(r.srvCpu).toFixed(2)} | ${median(r.cliCpu).toFixed(2)} | ${Math.round(median(r.rate))} | ${(median(r.rate) / delRate).toFixed(2)}× |`,
  );
}
console.log(`| valkey-benchmark -P 64 DEL | ${delUs.toFixed(2)} | | | ${Math.round(delRate)} | 1× |`);
client.disconnect();
await server.stop();
