/**
 * The workload of the project's source material: 20 % reads / 80 % writes of ~150 KB JSON values
 * over 2,000 keys, through the client codec (core/client/codec.ts): plain JSON (`jsonCodec`) and
 * zstd-compressed (`compressedJsonCodec({ algorithm: 'zstd' })`), against Valkey 8.0.1 and the
 * engine server (its own process) side by side in one run. Every write encodes one of 16 distinct
 * documents (so the codec really runs), every read decodes what it got. 8 connections (iovalkey),
 * one operation in flight each. Keys are pre-filled before timing so reads hit.
 *
 * Reports ops/s, p50/p99 latency, server CPU µs per op (/proc) and stored bytes per key (Valkey:
 * INFO used_memory delta; engine: its used_memory estimate) per (server, codec); rounds alternate
 * servers and the figures are medians.
 *
 *   node bench/engine/large-json.ts [--ops 4000] [--keys 2000] [--rounds 3] [--kb 150]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Valkey } from 'iovalkey';
import { type Codec, compressedJsonCodec, jsonCodec } from '../../core/client/codec.ts';
import {
  type BenchServer,
  processCpuSeconds,
  startEngineChild,
  startValkeyServer,
  usedMemory,
} from './harness.ts';

/** One document of about `kb` KB of JSON: an order history with varied fields (deterministic per `seed`). */
export function makeDocument(seed: number, kb: number): unknown {
  let x = seed * 2654435761;
  const rand = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const orders: unknown[] = [];
  let size = 0;
  for (let i = 0; size < kb * 1024; i++) {
    const order = {
      id: `ord-${seed}-${i}`,
      createdAt: new Date(1_700_000_000_000 + rand(1e9) * 1000).toISOString(),
      status: words[rand(4)],
      total: rand(100_000) / 100,
      currency: 'EUR',
      items: Array.from({ length: 1 + rand(4) }, (_, j) => ({
        sku: `SKU-${rand(99999)}`,
        name: `${words[rand(10)]} ${words[rand(10)]} ${j}`,
        qty: 1 + rand(5),
        price: rand(10_000) / 100,
      })),
      shipping: { city: words[rand(10)], zip: String(10000 + rand(89999)), express: rand(2) === 1 },
    };
    size += JSON.stringify(order).length + 1;
    orders.push(order);
  }
  return { customerId: seed, name: `customer ${seed}`, orders };
}

/** One measured (server, codec) cell. */
export interface LargeJsonCell {
  server: 'valkey' | 'engine';
  codec: string;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerOp: number;
  storedBytesPerKey: number;
}

const CONNECTIONS = 8;

function percentile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? 0;
}

async function storedBytes(server: BenchServer): Promise<number> {
  return usedMemory(server.port);
}

/** Runs one (server, codec) cell: pre-fill, then `ops` operations (20 % GET, 80 % SET). */
export async function runCell(
  server: BenchServer,
  codec: Codec<unknown>,
  docs: unknown[],
  keys: number,
  ops: number,
): Promise<LargeJsonCell> {
  const clients = Array.from(
    { length: CONNECTIONS },
    () => new Valkey({ port: server.port, lazyConnect: true }),
  );
  await Promise.all(clients.map((c) => c.connect()));
  try {
    // SYNC: Valkey 8 frees asynchronously by default (lazyfree-lazy-user-flush yes), which would
    // leave the previous cell's values in `before`.
    await clients[0]!.flushall('SYNC');
    const before = await storedBytes(server);
    // Pre-fill every key once (not timed).
    for (let k = 0; k < keys; k += CONNECTIONS) {
      await Promise.all(
        clients.map((c, i) =>
          k + i < keys ? c.set(`doc:${k + i}`, codec.encode(docs[(k + i) % docs.length])) : null,
        ),
      );
    }
    const stored = ((await storedBytes(server)) - before) / keys;
    let seed = 1;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const latencies: number[] = [];
    let next = 0;
    const cpu0 = processCpuSeconds(server.child.pid!);
    const t0 = performance.now();
    await Promise.all(
      clients.map(async (c) => {
        while (next < ops) {
          next++;
          const key = `doc:${rand(keys)}`;
          const read = rand(10) < 2;
          const doc = docs[rand(docs.length)];
          const start = performance.now();
          if (read) {
            const bytes = await c.getBuffer(key);
            if (bytes !== null) codec.decode(bytes);
          } else await c.set(key, codec.encode(doc));
          latencies.push(performance.now() - start);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpu = processCpuSeconds(server.child.pid!) - cpu0;
    return {
      server: server.name,
      codec: codec.name,
      opsPerSec: Math.round(ops / seconds),
      p50Ms: Number(percentile(latencies, 0.5).toFixed(2)),
      p99Ms: Number(percentile(latencies, 0.99).toFixed(2)),
      cpuUsPerOp: Number(((cpu * 1e6) / ops).toFixed(1)),
      storedBytesPerKey: Math.round(stored),
    };
  } finally {
    for (const c of clients) c.disconnect();
  }
}

/** Runs every cell `rounds` times (Valkey then engine per codec per round); returns the medians. */
export async function runLargeJson(opts: {
  ops: number;
  keys: number;
  rounds: number;
  kb: number;
}): Promise<LargeJsonCell[]> {
  const docs = Array.from({ length: 16 }, (_, i) => makeDocument(i + 1, opts.kb));
  const codecs = [jsonCodec, compressedJsonCodec({ algorithm: 'zstd' })];
  const servers = [await startValkeyServer(), await startEngineChild()];
  const cells = new Map<string, LargeJsonCell[]>();
  try {
    for (let round = 0; round < opts.rounds; round++) {
      for (const codec of codecs) {
        for (const server of servers) {
          const cell = await runCell(server, codec, docs, opts.keys, opts.ops);
          const id = `${cell.server}|${cell.codec}`;
          cells.set(id, [...(cells.get(id) ?? []), cell]);
        }
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return [...cells.values()].map((runs) => ({
    server: runs[0]!.server,
    codec: runs[0]!.codec,
    opsPerSec: med(runs.map((r) => r.opsPerSec)),
    p50Ms: med(runs.map((r) => r.p50Ms)),
    p99Ms: med(runs.map((r) => r.p99Ms)),
    cpuUsPerOp: med(runs.map((r) => r.cpuUsPerOp)),
    storedBytesPerKey: med(runs.map((r) => r.storedBytesPerKey)),
  }));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      ops: { type: 'string', default: '4000' },
      keys: { type: 'string', default: '2000' },
      rounds: { type: 'string', default: '3' },
      kb: { type: 'string', default: '150' },
    },
  });
  process.stdout.write(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const sample = JSON.stringify(makeDocument(1, Number(values.kb))).length;
  process.stdout.write(`document size: ${sample} B of JSON\n`);
  const cells = await runLargeJson({
    ops: Number(values.ops),
    keys: Number(values.keys),
    rounds: Number(values.rounds),
    kb: Number(values.kb),
  });
  for (const c of cells) {
    process.stdout.write(
      `${c.server} ${c.codec}: ${c.opsPerSec} ops/s, p50 ${c.p50Ms} ms, p99 ${c.p99Ms} ms, server CPU ${c.cpuUsPerOp} µs/op, stored ${c.storedBytesPerKey} B/key\n`,
    );
  }
}
