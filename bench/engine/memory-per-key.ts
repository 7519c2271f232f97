/**
 * Memory per key, engine vs Valkey 8, loaded the same way: 1M `SET k:NNNNNNNNN <32 bytes> PX 3600000`
 * (11-byte keys, 32-byte values, each with a TTL) piped with `valkey-cli --pipe` into each server.
 * Valkey: `INFO memory` used_memory delta. Engine: the server process's real heap + ArrayBuffer
 * delta after a full GC (and, for reference, its own used_memory estimate).
 *
 *   node bench/engine/memory-per-key.ts [keys=1000000]
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { engineHeap, pipeFile, startEngineChild, startValkeyServer, usedMemory } from './harness.ts';

/** Writes the load file and returns its path. */
export function writeLoadFile(keys: number): string {
  const file = join(tmpdir(), `cdc-cache-engine-load-${keys}.resp`);
  const parts: string[] = [];
  for (let i = 0; i < keys; i++) {
    const key = `k:${String(i).padStart(9, '0')}`;
    const value = `${i}`.padEnd(32, 'v');
    parts.push(`*5\r\n$3\r\nSET\r\n$11\r\n${key}\r\n$32\r\n${value}\r\n$2\r\nPX\r\n$7\r\n3600000\r\n`);
  }
  writeFileSync(file, parts.join(''));
  return file;
}

/** Bytes per key for each server. */
export interface MemoryResult {
  valkey: number;
  engine: number;
  engineEstimate: number;
  ratio: number;
}

/**
 * Runs the comparison `rounds` times (fresh servers each round); returns each round's result and
 * the medians (ratio: median of the per-round ratios).
 */
export async function runMemoryRounds(
  keys: number,
  rounds: number,
): Promise<{ median: MemoryResult; rounds: MemoryResult[] }> {
  const all: MemoryResult[] = [];
  for (let i = 0; i < rounds; i++) all.push(await runMemoryPerKey(keys));
  const med = (f: (r: MemoryResult) => number): number =>
    [...all.map(f)].sort((a, b) => a - b)[Math.floor(all.length / 2)]!;
  return {
    median: {
      valkey: med((r) => r.valkey),
      engine: med((r) => r.engine),
      engineEstimate: med((r) => r.engineEstimate),
      ratio: med((r) => r.ratio),
    },
    rounds: all,
  };
}

/** Runs the comparison once; bytes per key for each server. */
export async function runMemoryPerKey(keys: number): Promise<MemoryResult> {
  const file = writeLoadFile(keys);
  const valkey = await startValkeyServer();
  let valkeyPerKey: number;
  try {
    const before = await usedMemory(valkey.port);
    await pipeFile(valkey.port, file);
    valkeyPerKey = ((await usedMemory(valkey.port)) - before) / keys;
  } finally {
    await valkey.stop();
  }
  const engine = await startEngineChild();
  try {
    const before = await engineHeap(engine);
    await pipeFile(engine.port, file);
    const after = await engineHeap(engine);
    const enginePerKey = (after.bytes - before.bytes) / keys;
    return {
      valkey: Number(valkeyPerKey.toFixed(1)),
      engine: Number(enginePerKey.toFixed(1)),
      engineEstimate: Number(((after.used - before.used) / keys).toFixed(1)),
      ratio: Number((enginePerKey / valkeyPerKey).toFixed(2)),
    };
  } finally {
    await engine.stop();
  }
}

if (import.meta.main) {
  const r = await runMemoryPerKey(Number(process.argv[2] ?? 1_000_000));
  process.stdout.write(
    `bytes/key: valkey ${r.valkey}, engine ${r.engine} (estimate ${r.engineEstimate}), engine/valkey ${r.ratio}\n`,
  );
}
