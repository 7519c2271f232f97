/**
 * How close the engine's memory estimate (`usedMemory`, INFO used_memory, maxmemory accounting) is
 * to real V8 heap growth. Run with --expose-gc:
 *   node --expose-gc bench/engine/memory-accuracy.ts [keys] [valueBytes]
 * Prints JSON: keys, estimated bytes, measured heap delta, ratio.
 */
import { createEngine } from '../../engine/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc\n');
  process.exit(2);
}

/** Measures estimate vs heap delta for `n` keys of `valueBytes` with TTLs. */
export function measure(n: number, valueBytes: number, ttl: boolean): Record<string, number> {
  gc!();
  const before = heapAndBuffers();
  const engine = createEngine({ activeExpire: false });
  const pad = 'x'.repeat(valueBytes);
  for (let i = 0; i < n; i++) {
    const key = `k:${String(i).padStart(9, '0')}`;
    const value = Buffer.from(`${i}${pad}`.slice(0, valueBytes), 'latin1');
    engine.set(key, value, ttl ? { ttlMs: 3_600_000 } : undefined);
  }
  gc!();
  const after = heapAndBuffers();
  const measured = after - before;
  const estimated = engine.usedMemory;
  const result = {
    keys: n,
    valueBytes,
    estimated,
    measured,
    ratio: Number((estimated / measured).toFixed(3)),
  };
  engine.close();
  return result;
}

const n = Number(process.argv[2] ?? 1_000_000);
const valueBytes = Number(process.argv[3] ?? 32);
process.stdout.write(`${JSON.stringify(measure(n, valueBytes, true))}\n`);

/** V8 heap plus ArrayBuffer backing stores (the keyspace's typed arrays live outside the heap). */
function heapAndBuffers(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
