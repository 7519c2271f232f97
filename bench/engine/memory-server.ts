/**
 * Memory accounting over the wire: fills a fresh engine server (its own process, --expose-gc) with
 * `valkey-benchmark -t set` at three value sizes and compares the engine's estimate (INFO
 * used_memory, what maxmemory counts) with the real heap + ArrayBuffers after a full GC, and with the
 * process RSS. One fresh server per size.
 *
 *   node bench/engine/memory-server.ts [--sizes 16,500,150000] [--keys 400000,200000,2000]
 *
 * Prints one JSON line per size: keys, used_memory, heap (after GC), rss, estimate/heap, rss/used.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs, promisify } from 'node:util';
import { engineHeap, startEngineChild, usedMemory } from './harness.ts';

const run = promisify(execFile);

/** One measurement. */
export interface MemoryRow {
  valueBytes: number;
  keys: number;
  usedMemory: number;
  heapAfterGc: number;
  rss: number;
  estimateOverHeap: number;
  rssOverUsed: number;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Fills a fresh engine with about `keys` keys of `valueBytes` and measures. */
export async function measureOverWire(valueBytes: number, keys: number): Promise<MemoryRow> {
  const server = await startEngineChild();
  try {
    const base = (await engineHeap(server)).bytes;
    // -r draws random key numbers; 3× the key count in requests leaves ~95% of them written.
    await run(
      'valkey-benchmark',
      ['-p', String(server.port), '-t', 'set', '-d', String(valueBytes), '-r', String(keys)].concat([
        '-n',
        String(keys * 3),
        '-P',
        '16',
        '-c',
        '8',
        '-q',
      ]),
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const { stdout } = await run('valkey-cli', ['-p', String(server.port), 'DBSIZE']);
    const heap = await engineHeap(server);
    const used = await usedMemory(server.port);
    const rss = rssOf(server.child.pid!);
    const heapAfterGc = heap.bytes - base;
    return {
      valueBytes,
      keys: Number(stdout.trim()),
      usedMemory: used,
      heapAfterGc,
      rss,
      estimateOverHeap: Number((used / heapAfterGc).toFixed(3)),
      rssOverUsed: Number((rss / used).toFixed(3)),
    };
  } finally {
    await server.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '16,500,150000' },
      keys: { type: 'string', default: '400000,200000,2000' },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  const counts = values.keys.split(',').map(Number);
  for (let i = 0; i < sizes.length; i++) {
    process.stdout.write(`${JSON.stringify(await measureOverWire(sizes[i]!, counts[i] ?? counts[0]!))}\n`);
  }
}
