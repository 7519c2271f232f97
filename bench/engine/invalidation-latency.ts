/**
 * Invalidation latency through client tracking: 4 RESP3 connections track a key (GET after
 * `CLIENT TRACKING on`), a writer connection changes it, and each tracking connection times the
 * arrival of its `invalidate` push from the moment the write was sent. On the engine the change is
 * `CACHE.INVALIDATE key version` (the CDC path); on Valkey, side by side in the same run, `SET`
 * (Valkey has no CACHE.*). Server in its own process; clients in this one.
 *
 *   node bench/engine/invalidation-latency.ts [--iterations 2000] [--clients 4]
 *
 * Prints, per server, p50/p99 of every push's latency and of the slowest of the clients per change
 * (the "every client invalidated" time), in microseconds.
 *
 * The server side only: the end-to-end path into application processes' near caches (the cache
 * client's RESP2 REDIRECT tracking, 4 Node processes, after the CDC target applied) is
 * bench/client/near-invalidation.ts.
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import { type BenchServer, startEngineChild, startValkeyServer } from './harness.ts';

const { values } = parseArgs({
  options: { iterations: { type: 'string', default: '2000' }, clients: { type: 'string', default: '4' } },
});
const ITERATIONS = Number(values.iterations);
const CLIENTS = Number(values.clients);
const WARMUP = Math.min(200, ITERATIONS);

/** A connection that resolves one expectation at a time on received bytes. */
class Conn {
  readonly socket: net.Socket;
  #buf = '';
  #want: { marker: string; resolve: (at: bigint) => void } | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      const at = process.hrtime.bigint();
      this.#buf += d.toString('latin1');
      const w = this.#want;
      if (w !== null && this.#buf.includes(w.marker)) {
        this.#buf = '';
        this.#want = null;
        w.resolve(at);
      }
    });
  }

  static open(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new Conn(s)));
      s.once('error', reject);
    });
  }

  /** Resolves with the arrival time of the bytes containing `marker`. */
  expect(marker: string): Promise<bigint> {
    return new Promise((resolve) => {
      this.#want = { marker, resolve };
    });
  }

  send(...args: string[]): void {
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    this.socket.write(s);
  }

  /** Sends a command and waits for a reply ending in CRLF containing `marker`. */
  async call(marker: string, ...args: string[]): Promise<void> {
    const p = this.expect(marker);
    this.send(...args);
    await p;
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(server: BenchServer): Promise<Record<string, number | string>> {
  const trackers = await Promise.all(Array.from({ length: CLIENTS }, () => Conn.open(server.port)));
  const writer = await Conn.open(server.port);
  for (const t of trackers) {
    await t.call('proto', 'HELLO', '3');
    await t.call('OK', 'CLIENT', 'TRACKING', 'on');
  }
  const each: number[] = [];
  const slowest: number[] = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const key = `inv:${i % 64}`;
    await Promise.all(trackers.map((t) => t.call('\r\n', 'GET', key)));
    const pushes = trackers.map((t) => t.expect('invalidate'));
    const reply = writer.expect('\r\n');
    const t0 = process.hrtime.bigint();
    if (server.name === 'engine') writer.send('CACHE.INVALIDATE', key, `v${String(i).padStart(8, '0')}`, '0');
    else writer.send('SET', key, 'x');
    const arrivals = await Promise.all(pushes);
    await reply;
    if (i < WARMUP) continue;
    let worst = 0;
    for (const at of arrivals) {
      const us = Number(at - t0) / 1000;
      each.push(us);
      if (us > worst) worst = us;
    }
    slowest.push(worst);
  }
  for (const c of [...trackers, writer]) c.socket.destroy();
  each.sort((a, b) => a - b);
  slowest.sort((a, b) => a - b);
  return {
    server: server.name,
    change: server.name === 'engine' ? 'CACHE.INVALIDATE' : 'SET',
    clients: CLIENTS,
    iterations: ITERATIONS,
    p50_us: Math.round(pct(each, 50)),
    p99_us: Math.round(pct(each, 99)),
    all_clients_p50_us: Math.round(pct(slowest, 50)),
    all_clients_p99_us: Math.round(pct(slowest, 99)),
  };
}

for (const start of [startEngineChild, startValkeyServer]) {
  const server = await start();
  try {
    console.log(JSON.stringify(await measure(server)));
  } finally {
    await server.stop();
  }
}
