/**
 * Benchmark (not a test): the cost of a prefix invalidation (a truncate) on Valkey, this checkout
 * against another (`--base`, e.g. the main worktree), in one process on one private valkey-server,
 * rounds interleaved. The keyspace holds `--keys` values (each with its fence sibling) plus 100 keys
 * under the prefix; per side and round: one prefix invalidation, then a batch of `--batch` prefix
 * invalidations of that prefix (what a replayed truncate or a rule's `onPartialImage` on a bulk
 * update produces). Reported: wall time and the server's CPU (INFO cpu), medians of rounds.
 *
 *   node bench/valkey/prefix-invalidation.ts --base /work/main [--keys 200000] [--batch 10] [--rounds 3]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CacheOp } from '../../core/targets/cache-op.ts';
import { createValkeyTarget } from '../../core/targets/valkey/valkey-target.ts';
import { startOwnValkey } from '../../test/support/own-valkey.ts';
import { median } from '../suite.ts';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    keys: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
  },
});
if (values.base === undefined) throw new Error('--base DIR: a checkout to compare with (e.g. /work/main)');
const KEYS = Number(values.keys);
const BATCH = Number(values.batch);
const ROUNDS = Number(values.rounds);
const base = (await import(join(resolve(values.base), 'core/targets/valkey/valkey-target.ts'))) as {
  createValkeyTarget: typeof createValkeyTarget;
};

const server = await startOwnValkey();
const cli = (...args: string[]) =>
  execFileSync('valkey-cli', ['-p', String(server.port), ...args], { encoding: 'utf8' });
const serverCpu = () => {
  const info = cli('INFO', 'cpu');
  const n = (f: string) => Number(new RegExp(`${f}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return n('used_cpu_sys') + n('used_cpu_user');
};
const loadAtStart = loadavg();
try {
  const seed = await createValkeyTarget({ url: server.url });
  for (let i = 0; i < KEYS; i += 10_000) {
    const ops: CacheOp[] = [];
    for (let j = i; j < Math.min(KEYS, i + 10_000); j++)
      ops.push({ kind: 'refresh', key: `cust:${j}`, value: 'x'.repeat(50), ttlMs: 0, version: '1' });
    await seed.apply(ops);
  }
  await seed.apply(
    Array.from({ length: 100 }, (_, j) => ({
      kind: 'refresh' as const,
      key: `truncated:${j}`,
      value: 'y',
      ttlMs: 0,
      version: '1',
    })),
  );
  await seed.close();
  let version = 10;
  const rows = new Map<string, { ms: number[]; cpu: number[] }>();
  const sides = [
    ['base', base.createValkeyTarget],
    ['this', createValkeyTarget],
  ] as const;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [side, open] of sides) {
      const target = await open({ url: server.url });
      for (const count of [1, BATCH]) {
        const ops: CacheOp[] = Array.from({ length: count }, () => ({
          kind: 'invalidatePrefix',
          prefix: 'truncated:',
          version: String(version++),
        }));
        const c0 = serverCpu();
        const t0 = performance.now();
        const results = await target.apply(ops);
        const ms = performance.now() - t0;
        for (const r of results) if (!r.ok) throw r.error;
        const name = `${side}: ${count === 1 ? 'one prefix invalidation' : `a batch of ${count} of one prefix`}`;
        const row = rows.get(name) ?? { ms: [], cpu: [] };
        row.ms.push(ms);
        row.cpu.push((serverCpu() - c0) * 1000);
        rows.set(name, row);
      }
      await target.close();
    }
  }
  console.log(
    `${KEYS + 100} keys (${cli('DBSIZE').trim()} names with the fence siblings), 100 under the prefix; base ${values.base}; ${ROUNDS} rounds; load ${loadAtStart.map((x) => x.toFixed(1)).join(' ')} → ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log('| side | wall ms (median) | server CPU ms (median) |');
  console.log('| --- | --- | --- |');
  for (const [name, r] of rows)
    console.log(`| ${name} | ${median(r.ms).toFixed(0)} | ${median(r.cpu).toFixed(0)} |`);
} finally {
  await server.stop();
}
