/**
 * Script throughput, engine vs Valkey 8 side by side in one run: valkey-benchmark (50 clients, no
 * pipelining) sending EVALSHA of a trivial script, EVAL of the same script (the engine hashes the
 * body per call, as Valkey does), and EVALSHA of a sliding-window rate limiter
 * (ZREMRANGEBYSCORE/ZCARD/ZADD/PEXPIRE) over 100k random keys; GET as the non-script reference.
 * Prints requests/second, engine/Valkey ratios and each server's CPU time per command (from /proc,
 * which other load on the machine disturbs less than throughput); `--write` replaces the "Scripts" section of
 * bench/results/engine.md.
 *
 *   node bench/engine/script-throughput.ts [requests=200000] [rounds=3] [--write]
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BenchServer, startEngineChild, startValkeyServer } from './harness.ts';

const run = promisify(execFile);

/** The rate limiter measured (the same as the differential test's). */
export const RATE_LIMITER = `local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, now .. '-' .. ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1}
end
return {0, 0}`;

const TRIVIAL = 'return 1';

/** One row of results. */
export interface ScriptRow {
  test: string;
  command: string;
  valkey: number;
  engine: number;
  ratio: number;
  /** Server CPU (user + system) per command in µs, from /proc: less sensitive to other load. */
  valkeyCpuUs: number;
  engineCpuUs: number;
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('valkey-cli', ['-p', String(port), ...args]);
  return stdout.trim();
}

async function bench(
  server: BenchServer,
  requests: number,
  random: boolean,
  command: string[],
): Promise<{ rps: number; cpuUs: number }> {
  const args = ['-h', '127.0.0.1', '-p', String(server.port), '-c', '50', '-n', String(requests), '-q'];
  if (random) args.push('-r', '100000');
  const cpu0 = cpuSeconds(server.child.pid!);
  const { stdout } = await run('valkey-benchmark', [...args, ...command], { maxBuffer: 16 * 1024 * 1024 });
  const cpuUs = ((cpuSeconds(server.child.pid!) - cpu0) * 1e6) / requests;
  const m = /([\d.]+) requests per second/.exec(stdout);
  if (m === null) throw new Error(`valkey-benchmark printed no rate: ${stdout.slice(0, 300)}`);
  return { rps: Number(m[1]), cpuUs };
}

/** Runs the comparison: per test, `rounds` rounds of Valkey then the engine; medians. */
export async function runScriptThroughput(requests: number, rounds = 3): Promise<ScriptRow[]> {
  const servers: BenchServer[] = [await startValkeyServer(), await startEngineChild()];
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  try {
    const shas: string[][] = [];
    for (const s of servers) {
      await cli(s.port, 'SET', 'bench:k', 'v');
      shas.push([
        await cli(s.port, 'SCRIPT', 'LOAD', TRIVIAL),
        await cli(s.port, 'SCRIPT', 'LOAD', RATE_LIMITER),
      ]);
    }
    const tests: { test: string; random: boolean; command: (i: number) => string[] }[] = [
      { test: 'GET (no script)', random: false, command: () => ['GET', 'bench:k'] },
      { test: 'EVALSHA trivial', random: false, command: (i) => ['EVALSHA', shas[i]![0]!, '0'] },
      { test: 'EVAL trivial', random: false, command: () => ['EVAL', TRIVIAL, '0'] },
      {
        test: 'EVALSHA rate limiter',
        random: true,
        command: (i) => ['EVALSHA', shas[i]![1]!, '1', 'rl:__rand_int__', '1765000000000', '1000', '5', 'm'],
      },
    ];
    const rows: ScriptRow[] = [];
    for (const t of tests) {
      const acc = {
        valkey: [] as number[],
        engine: [] as number[],
        ratio: [] as number[],
        vc: [] as number[],
        ec: [] as number[],
      };
      for (let round = 0; round < rounds; round++) {
        const v = await bench(servers[0]!, requests, t.random, t.command(0));
        const e = await bench(servers[1]!, requests, t.random, t.command(1));
        acc.valkey.push(v.rps);
        acc.engine.push(e.rps);
        acc.ratio.push(e.rps / (v.rps || 1));
        acc.vc.push(v.cpuUs);
        acc.ec.push(e.cpuUs);
      }
      const shown = t.command(0).map((a) => (a.length === 40 ? 'SHA' : a.includes('\n') ? '…' : a));
      rows.push({
        test: t.test,
        command: `valkey-benchmark -c 50 -n ${requests}${t.random ? ' -r 100000' : ''} ${shown.join(' ')}`,
        valkey: Math.round(median(acc.valkey)),
        engine: Math.round(median(acc.engine)),
        ratio: Number(median(acc.ratio).toFixed(2)),
        valkeyCpuUs: Number(median(acc.vc).toFixed(1)),
        engineCpuUs: Number(median(acc.ec).toFixed(1)),
      });
    }
    return rows;
  } finally {
    for (const s of servers) await s.stop();
  }
}

/** The markdown section for bench/results/engine.md. */
export function scriptSection(rows: ScriptRow[], requests: number, rounds: number): string {
  return [
    '## Scripts (EVAL/EVALSHA through the embedded Lua VM)',
    '',
    `Command: \`node bench/engine/script-throughput.ts ${requests} ${rounds}\`. Valkey and the engine (its own process) side by side, ${rounds} rounds of Valkey then engine back to back; medians of rps and of the per-round ratio. The engine runs Lua 5.4 in WebAssembly (wasmoon); Valkey runs Lua 5.1 natively.`,
    `Load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (other processes on this shared machine add noise).`,
    '',
    "Server CPU per command: the server process's user + system CPU time (from /proc) over the run, divided by the requests (it includes the socket work, which dominates at 50 clients without pipelining).",
    '',
    '| test | command | Valkey rps | engine rps | engine/Valkey | Valkey CPU µs/cmd | engine CPU µs/cmd |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.test} | \`${r.command}\` | ${r.valkey} | ${r.engine} | ${r.ratio} | ${r.valkeyCpuUs} | ${r.engineCpuUs} |`,
    ),
    '',
  ].join('\n');
}

if (import.meta.main) {
  const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const requests = Number(positional[0] ?? 200_000);
  const rounds = Number(positional[1] ?? 3);
  const rows = await runScriptThroughput(requests, rounds);
  const section = scriptSection(rows, requests, rounds);
  console.log(section);
  if (process.argv.includes('--write')) {
    const file = fileURLToPath(new URL('../results/engine.md', import.meta.url));
    const text = readFileSync(file, 'utf8');
    const start = text.indexOf('## Scripts (EVAL/EVALSHA');
    const next = start < 0 ? -1 : text.indexOf('\n## ', start + 1);
    const updated =
      start < 0
        ? `${text.trimEnd()}\n\n${section}`
        : `${text.slice(0, start)}${section}${next < 0 ? '' : text.slice(next + 1)}`;
    writeFileSync(file, updated);
  }
}
