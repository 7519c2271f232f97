/**
 * Benchmark (not a test): the server's instructions per fenced op, per APPLY shape, counted by
 * valgrind (callgrind with its cache simulation) on a private valkey-server. Unlike time, an
 * instruction count does not move with the machine's load, so shapes can be compared on a busy
 * machine; the simulated cache misses show what the count cannot (a miss costs ~100 instructions'
 * time). Per shape: its own key space is warmed with 2 × `--keys` ops, then exactly `--ops` ops
 * (chunks of 256, one EVALSHA each, awaited one by one) are counted between two callgrind dumps;
 * FLUSHALL before each shape.
 *
 *   node bench/valkey/fenced-shape-instructions.ts [--ops 5120] [--keys 5000] [--invalidate-only]
 *
 * The stream is bench/valkey/fenced-shape.ts's: half refresh (100-byte value, TTL 10 min), half
 * invalidate (tombstone 5 min), every 50th op stale; `--invalidate-only` is bench/valkey/apply.ts's.
 * Shapes: `current` (valkey-scripts.ts's APPLY) and `layout 2, PX` (the same layout as first
 * released, test/support/apply-shapes.ts). Needs `valgrind` and `callgrind_control` on PATH; takes
 * about a minute per shape.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis as Valkey } from 'iovalkey';
import { versionSortKey } from '../../core/event/version.ts';
import { APPLY, type LuaScript } from '../../core/targets/valkey/valkey-scripts.ts';
import { APPLY_L2_PX } from '../../test/support/apply-shapes.ts';
import { freePort } from '../../test/support/own-valkey.ts';

const { values } = parseArgs({
  options: {
    ops: { type: 'string', default: '5120' },
    keys: { type: 'string', default: '5000' },
    'invalidate-only': { type: 'boolean', default: false },
  },
});
const OPS = Number(values.ops);
const KEYS = Number(values.keys);
const INVALIDATE_ONLY = values['invalidate-only'];
const shapes: [string, LuaScript][] = [
  ['layout 2, PX (as first released)', APPLY_L2_PX],
  ['current', APPLY],
];

const dir = mkdtempSync(join(tmpdir(), 'cdc-callgrind-'));
const port = await freePort();
const server = spawn(
  'valgrind',
  [
    '--tool=callgrind',
    '--instr-atstart=no',
    '--cache-sim=yes',
    `--callgrind-out-file=${dir}/out.%p`,
    ...['/usr/bin/valkey-server', '--bind', '127.0.0.1', '--port', String(port)],
    ...['--save', '', '--appendonly', 'no'],
  ],
  { stdio: 'ignore' },
);
const control = (...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(server.pid)], { stdio: 'ignore' });
try {
  for (let i = 0; ; i++) {
    try {
      execFileSync('valkey-cli', ['-p', String(port), 'PING'], { stdio: 'ignore' });
      break;
    } catch (error) {
      if (i === 300) throw new Error(`valkey-server under valgrind did not start: ${error}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const client = new Valkey(port, '127.0.0.1');
  let version = 1_000_000;
  const run = async (s: number, script: LuaScript, count: number) => {
    for (let i = 0; i < count; i += 256) {
      const keys: string[] = [];
      const rest: string[] = [];
      let kinds = '';
      for (let j = i; j < i + 256; j++) {
        keys.push(`s${s}:customer:${String(j % KEYS).padStart(12, '0')}`);
        if (!INVALIDATE_ONLY && j % 2 === 0) {
          kinds += 'r';
          rest.push(versionSortKey(String(version++)), '600000', 'x'.repeat(100));
        } else {
          kinds += 'i';
          rest.push(versionSortKey(String(j % 50 === 49 ? version - 1000 : version++)));
        }
      }
      await client.evalsha(script.sha, keys.length, ...keys, kinds, '300000', '0', ...rest);
    }
  };
  for (const [s, [, script]] of shapes.entries()) {
    await client.call('FLUSHALL'); // every shape starts from an empty keyspace
    await client.call('SCRIPT', 'LOAD', script.lua);
    await run(s, script, 2 * KEYS);
    control('-i', 'on');
    await run(s, script, OPS);
    control('-d', `shape${s}`); // the dump's trigger names the shape by its index
    control('-i', 'off');
  }
  client.disconnect();
} finally {
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
}
console.log(
  `${INVALIDATE_ONLY ? 'invalidations only' : 'half refresh, half invalidate'}; ${OPS} ops per shape after ${2 * KEYS} warm-up ops, ${KEYS} keys`,
);
console.log('| shape | instructions per op | D1 misses per op | LL misses per op |');
console.log('| --- | --- | --- | --- |');
for (const f of readdirSync(dir).sort()) {
  const text = readFileSync(join(dir, f), 'utf8');
  const index = /^desc: Trigger: dump shape(\d+)$/m.exec(text)?.[1];
  const trigger = index === undefined ? undefined : shapes[Number(index)]?.[0];
  const events = /^events: (.*)$/m.exec(text)?.[1]?.split(' ');
  const totals = /^totals: (.*)$/m.exec(text)?.[1]?.split(' ').map(Number);
  if (trigger === undefined || !events || !totals) continue;
  const per = (e: string[]) => e.reduce((n, x) => n + (totals[events.indexOf(x)] ?? 0), 0) / OPS;
  console.log(
    `| ${trigger} | ${Math.round(per(['Ir']))} | ${per(['D1mr', 'D1mw']).toFixed(1)} | ${per(['DLmr', 'DLmw']).toFixed(2)} |`,
  );
}
rmSync(dir, { recursive: true, force: true });
