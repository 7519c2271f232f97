/**
 * In-process throughput: the engine vs the newest lru-cache (with `ttl`), same run, same workload.
 * 1M keys (11 bytes) with 32-byte values, all with a 1 h TTL, then 4M operations, 80% get / 20% set
 * over uniformly random keys. 5 interleaved rounds; the reported ratio is the median of the per-round
 * ratios (robust to load from other processes), ops/s are the medians. Before each contender's timed
 * loop a full GC runs, so neither pays for the other's garbage (the previous contender's 1M entries,
 * dropped when it closes, would otherwise be collected inside the next timed loop); beside the rates,
 * each contender's main-thread CPU µs per op (process.threadCpuUsage). Not a test: no assertions.
 *
 *   node bench/engine/in-process.ts [--json] [--keys 1000000] [--ops 4000000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LRUCache } from 'lru-cache';
import { createEngine } from '../../engine/index.ts';

const TTL_MS = 3_600_000;

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** Thread CPU time, µs. */
function cpuNow(): number {
  const c = process.threadCpuUsage();
  return c.user + c.system;
}

/** One contender's round: ops/s by wall time, and main-thread CPU µs per op. */
interface Timed {
  rate: number;
  cpuUs: number;
}

/** Result of one contender. */
export interface InProcessResult {
  name: string;
  opsPerSec: number;
}

/** Sizes of the comparison. */
export interface InProcessOptions {
  /** Keys loaded before timing. @default 1_000_000 */
  keys?: number;
  /** Timed operations (80% get / 20% set). @default 4_000_000 */
  ops?: number;
  /** Interleaved rounds. @default 5 */
  rounds?: number;
}

interface Workload {
  keys: string[];
  values: string[];
  ops: Uint32Array;
  isSet: Uint8Array;
}

function workload(KEYS: number, OPS: number): Workload {
  const keys = Array.from({ length: KEYS }, (_, i) => `k:${String(i).padStart(9, '0')}`);
  const values = Array.from({ length: 64 }, (_, i) => `${i}`.padEnd(32, 'v'));
  let seed = 42;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const ops = new Uint32Array(OPS);
  const isSet = new Uint8Array(OPS);
  for (let i = 0; i < OPS; i++) {
    ops[i] = Math.floor(rnd() * KEYS);
    isSet[i] = rnd() < 0.2 ? 1 : 0;
  }
  return { keys, values, ops, isSet };
}

function runEngine(w: Workload): Timed {
  const KEYS = w.keys.length;
  const OPS = w.ops.length;
  const engine = createEngine({ activeExpire: false });
  const opts = { ttlMs: TTL_MS };
  for (let i = 0; i < KEYS; i++) engine.set(w.keys[i]!, w.values[i & 63]!, opts);
  let hits = 0;
  fullGc();
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) {
    const key = w.keys[w.ops[i]!]!;
    if (w.isSet[i] === 1) engine.set(key, w.values[i & 63]!, opts);
    else if (engine.get(key) !== null) hits++;
  }
  const ms = performance.now() - t0;
  const cpuUs = (cpuNow() - c0) / OPS;
  engine.close();
  if (hits === 0) throw new Error('no hits');
  return { rate: (OPS / ms) * 1000, cpuUs };
}

function runLru(w: Workload): Timed {
  const KEYS = w.keys.length;
  const OPS = w.ops.length;
  const cache = new LRUCache<string, string>({ max: KEYS * 2, ttl: TTL_MS });
  for (let i = 0; i < KEYS; i++) cache.set(w.keys[i]!, w.values[i & 63]!);
  let hits = 0;
  fullGc();
  const c0 = cpuNow();
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) {
    const key = w.keys[w.ops[i]!]!;
    if (w.isSet[i] === 1) cache.set(key, w.values[i & 63]!);
    else if (cache.get(key) !== undefined) hits++;
  }
  const ms = performance.now() - t0;
  const cpuUs = (cpuNow() - c0) / OPS;
  cache.clear();
  if (hits === 0) throw new Error('no hits');
  return { rate: (OPS / ms) * 1000, cpuUs };
}

/**
 * Runs the comparison; returns median ops/s of both, the median per-round ratio engine / lru-cache,
 * and the medians of each one's CPU µs per op with their ratio (lru-cache / engine).
 */
export function runInProcessBench(options: InProcessOptions = {}): {
  engine: number;
  lruCache: number;
  ratio: number;
  rounds: number;
  engineCpuUs: number;
  lruCacheCpuUs: number;
  cpuRatio: number;
  ratios: number[];
} {
  const rounds = options.rounds ?? 5;
  const w = workload(options.keys ?? 1_000_000, options.ops ?? 4_000_000);
  const engine: number[] = [];
  const lru: number[] = [];
  const ratios: number[] = [];
  const engineCpu: number[] = [];
  const lruCpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const e = runEngine(w);
    const l = runLru(w);
    engine.push(e.rate);
    lru.push(l.rate);
    engineCpu.push(e.cpuUs);
    lruCpu.push(l.cpuUs);
    ratios.push(e.rate / l.rate);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const engineCpuUs = median(engineCpu);
  const lruCacheCpuUs = median(lruCpu);
  return {
    engine: Math.round(median(engine)),
    lruCache: Math.round(median(lru)),
    ratio: Number(median(ratios).toFixed(2)),
    rounds,
    engineCpuUs: Number(engineCpuUs.toFixed(3)),
    lruCacheCpuUs: Number(lruCacheCpuUs.toFixed(3)),
    cpuRatio: Number((lruCacheCpuUs / engineCpuUs).toFixed(2)),
    ratios: ratios.map((r) => Number(r.toFixed(2))),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      keys: { type: 'string', default: '1000000' },
      ops: { type: 'string', default: '4000000' },
      rounds: { type: 'string', default: '5' },
    },
  });
  const r = runInProcessBench({
    keys: Number(values.keys),
    ops: Number(values.ops),
    rounds: Number(values.rounds),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else
    process.stdout.write(
      `engine ${r.engine} ops/s, lru-cache ${r.lruCache} ops/s, ratio ${r.ratio} (per round ${r.ratios.join(', ')}); ` +
        `CPU per op engine ${r.engineCpuUs} µs, lru-cache ${r.lruCacheCpuUs} µs, ratio by CPU ${r.cpuRatio}\n`,
    );
}
