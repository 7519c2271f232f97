/**
 * The engine benchmark suite (not tests: nothing here asserts). Runs, side by side in one run:
 * server throughput vs Valkey 8 (valkey-benchmark), memory per key vs Valkey, and in-process
 * get/set vs lru-cache; prints the results and writes them with the exact commands to
 * bench/results/engine.md.
 *
 *   node bench/engine/run.ts [--requests 1000000] [--keys 1000000] [--no-write]
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { benchmarkArgs } from './harness.ts';
import { runInProcessBench } from './in-process.ts';
import { runMemoryPerKey } from './memory-per-key.ts';
import { runServerThroughput } from './server-throughput.ts';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000000' },
    keys: { type: 'string', default: '1000000' },
    'no-write': { type: 'boolean', default: false },
  },
});
const requests = Number(values.requests);
const keys = Number(values.keys);

const throughput = await runServerThroughput(requests);
const memory = await runMemoryPerKey(keys);
const inProcess = runInProcessBench();

const valkeyVersion = execFileSync('valkey-server', ['--version']).toString().trim();
const mark = (ok: boolean): string => (ok ? 'met' : 'NOT met');
const lines = [
  '# Engine benchmarks',
  '',
  `Run: ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ${valkeyVersion}.`,
  '',
  'Command: `node bench/engine/run.ts' +
    (requests !== 1_000_000 ? ` --requests ${requests}` : '') +
    (keys !== 1_000_000 ? ` --keys ${keys}` : '') +
    '`',
  '',
  '## Server throughput (valkey-benchmark, 50 clients)',
  '',
  `Each server: \`valkey-benchmark ${benchmarkArgs(0, requests, 1).join(' ').replace('-p 0', '-p PORT')}\` and the same with \`-P 16\`;`,
  'Valkey on 16390, the engine (bench/engine/engine-server.ts, its own process) on 16391; 3 rounds of Valkey then engine back to back; medians of rps and of the per-round ratio.',
  `Load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (other processes on this shared machine add noise).`,
  '',
  '| pipeline | test | Valkey rps | engine rps | engine/Valkey | target |',
  '|---|---|---|---|---|---|',
  ...throughput.map((r) => {
    const target = r.pipeline === 1 ? 0.9 : 0.6;
    return `| ${r.pipeline} | ${r.test} | ${r.valkey} | ${r.engine} | ${r.ratio} | >= ${target} (${mark(r.ratio >= target)}) |`;
  }),
  '',
  '## Memory per key',
  '',
  `${keys} keys, 11-byte keys, 32-byte values, each with PX 3600000, piped with \`valkey-cli --pipe\` into each server.`,
  'Valkey: INFO used_memory delta. Engine: server process heap + ArrayBuffers delta after a full GC.',
  '',
  '| Valkey bytes/key | engine bytes/key | engine estimate (INFO used_memory) | engine/Valkey | target |',
  '|---|---|---|---|---|',
  `| ${memory.valkey} | ${memory.engine} | ${memory.engineEstimate} | ${memory.ratio} | <= 1 (${mark(memory.ratio <= 1)}) |`,
  '',
  '## In-process get/set (80/20, 1M keys with TTLs) vs lru-cache',
  '',
  'Command alone: `node bench/engine/in-process.ts`. lru-cache with `{ max: 2M, ttl: 1h }`, engine with `{ ttlMs: 1h }` sets.',
  '5 interleaved rounds; medians of ops/s and of the per-round ratio.',
  '',
  '| engine ops/s | lru-cache ops/s | ratio | target |',
  '|---|---|---|---|',
  `| ${inProcess.engine} | ${inProcess.lruCache} | ${inProcess.ratio} | >= 2 (${mark(inProcess.ratio >= 2)}) |`,
  '',
];
const text = lines.join('\n');
process.stdout.write(`${text}\n`);
if (!values['no-write']) {
  const file = fileURLToPath(new URL('../results/engine.md', import.meta.url));
  writeFileSync(file, text);
  // Keep the repository lint-clean: biome formats Markdown tables.
  try {
    execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'ignore' });
  } catch {
    // formatting is cosmetic
  }
}
