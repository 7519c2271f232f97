/**
 * In-process throughput: the engine vs the newest lru-cache (with `ttl`), same run, same workload.
 * 1M keys (11 bytes) with 32-byte values, all with a 1 h TTL, then 4M operations, 80% get / 20% set
 * over uniformly random keys. 5 interleaved rounds; the reported ratio is the median of the per-round
 * ratios (robust to load from other processes), ops/s are the medians. Not a test: no assertions.
 *
 *   node bench/engine/in-process.ts [--json] [--keys 1000000] [--ops 4000000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { LRUCache } from 'lru-cache';
import { createEngine } from '../../engine/index.ts';

const TTL_MS = 3_600_000;

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

function runEngine(w: Workload): number {
  const KEYS = w.keys.length;
  const OPS = w.ops.length;
  const engine = createEngine({ activeExpire: false });
  const opts = { ttlMs: TTL_MS };
  for (let i = 0; i < KEYS; i++) engine.set(w.keys[i]!, w.values[i & 63]!, opts);
  let hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) {
    const key = w.keys[w.ops[i]!]!;
    if (w.isSet[i] === 1) engine.set(key, w.values[i & 63]!, opts);
    else if (engine.get(key) !== null) hits++;
  }
  const ms = performance.now() - t0;
  engine.close();
  if (hits === 0) throw new Error('no hits');
  return (OPS / ms) * 1000;
}

function runLru(w: Workload): number {
  const KEYS = w.keys.length;
  const OPS = w.ops.length;
  const cache = new LRUCache<string, string>({ max: KEYS * 2, ttl: TTL_MS });
  for (let i = 0; i < KEYS; i++) cache.set(w.keys[i]!, w.values[i & 63]!);
  let hits = 0;
  const t0 = performance.now();
  for (let i = 0; i < OPS; i++) {
    const key = w.keys[w.ops[i]!]!;
    if (w.isSet[i] === 1) cache.set(key, w.values[i & 63]!);
    else if (cache.get(key) !== undefined) hits++;
  }
  const ms = performance.now() - t0;
  if (hits === 0) throw new Error('no hits');
  return (OPS / ms) * 1000;
}

/** Runs the comparison; returns median ops/s of both and the median per-round ratio engine / lru-cache. */
export function runInProcessBench(options: InProcessOptions = {}): {
  engine: number;
  lruCache: number;
  ratio: number;
  rounds: number;
} {
  const rounds = options.rounds ?? 5;
  const w = workload(options.keys ?? 1_000_000, options.ops ?? 4_000_000);
  const engine: number[] = [];
  const lru: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    engine.push(runEngine(w));
    lru.push(runLru(w));
    ratios.push(engine[round]! / lru[round]!);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return {
    engine: Math.round(median(engine)),
    lruCache: Math.round(median(lru)),
    ratio: Number(median(ratios).toFixed(2)),
    rounds,
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
  else process.stdout.write(`engine ${r.engine} ops/s, lru-cache ${r.lruCache} ops/s, ratio ${r.ratio}\n`);
}
