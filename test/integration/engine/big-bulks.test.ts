/**
 * Big bulks (32 KB and more) are received into pooled buffers shared by all connections, and the
 * rest of such a bulk is read from the socket straight into its buffer (resp-parser.ts,
 * bulk-buffers.ts, read-path.ts). Checked here on a real engine process: several clients at once
 * pipeline SETs of big values of many sizes (around the 32 KB threshold, the 512 KiB pool limit
 * and past 1 MiB), mixed with small commands, written in uneven pieces so bulks straddle reads;
 * one client trickles a bulk while the others finish theirs; every value reads back byte for byte.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineProcess, spawnEngine } from '../../support/engine-process.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';

let engine: EngineProcess;
beforeAll(async () => {
  engine = await spawnEngine([]);
});
afterAll(async () => {
  await engine?.stop();
});

/** Deterministic bytes (mulberry32), so every value differs from every other. */
function bytes(seed: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let s = seed | 0;
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

const SIZES = [32 * 1024 - 3, 32 * 1024, 70_000, 150_000, 512 * 1024, 600_000, 1_100_000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `data` in pieces of uneven sizes, letting the server read in between. */
async function writeUnevenly(socket: net.Socket, data: Buffer, seed: number): Promise<void> {
  const sizes = [1, 7, 4096, 65_535, 65_536, 100_000, 300_000];
  let at = 0;
  for (let i = seed; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    socket.write(data.subarray(at, at + n));
    at += n;
    if (i % 3 === 0) await sleep(1);
  }
}

describe('big bulks on the engine server', () => {
  it('pipelined big SETs from several clients at once read back byte for byte', async () => {
    const clients = 3;
    const expected = new Map<string, Buffer>();
    const runs: Promise<void>[] = [];
    const sockets: net.Socket[] = [];
    for (let c = 0; c < clients; c++) {
      const parts: Buffer[] = [];
      SIZES.forEach((size, i) => {
        const key = `bigbulk:${c}:${i}`;
        const value = bytes(c * 100 + i, size);
        expected.set(key, value);
        parts.push(
          encodeCommand(['SET', key, value]),
          encodeCommand(['SET', `bigbulk:small:${c}:${i}`, 'x']),
        );
        parts.push(encodeCommand(['PING']));
      });
      const socket = net.connect(engine.port, '127.0.0.1');
      sockets.push(socket);
      await new Promise<void>((ok, fail) => {
        socket.once('connect', ok);
        socket.once('error', fail);
      });
      const want = '+OK\r\n+OK\r\n+PONG\r\n'.repeat(SIZES.length);
      let got = '';
      const done = new Promise<void>((ok, fail) => {
        socket.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          if (got.length >= want.length) ok();
        });
        socket.once('error', fail);
        socket.once('close', () => fail(new Error(`connection ${c} closed; got ${JSON.stringify(got)}`)));
      });
      runs.push(
        writeUnevenly(socket, Buffer.concat(parts), c).then(async () => {
          await done;
          expect(got).toBe(want);
        }),
      );
    }
    // Meanwhile one client trickles a big bulk, holding its buffer while the others reuse theirs.
    const slow = await RawClient.connect(engine.port);
    const slowValue = bytes(999, 150_000);
    const slowFrame = encodeCommand(['SET', 'bigbulk:slow', slowValue]);
    const half = 80_000;
    slow.write(slowFrame.subarray(0, half));
    await Promise.all(runs);
    slow.write(slowFrame.subarray(half));
    expect(await slow.read()).toBe('+OK\r\n');
    expected.set('bigbulk:slow', slowValue);

    const reader = await RawClient.connect(engine.port);
    for (const [key, value] of expected) {
      const reply = await reader.call('GET', key);
      expect(reply?.length, key).toBe(`$${value.length}\r\n`.length + value.length + 2);
      expect(
        Buffer.from(reply!, 'latin1').equals(
          Buffer.from(`$${value.length}\r\n${value.toString('latin1')}\r\n`, 'latin1'),
        ),
        key,
      ).toBe(true);
    }
    reader.close();
    slow.close();
    for (const s of sockets) s.destroy();
  });
});
