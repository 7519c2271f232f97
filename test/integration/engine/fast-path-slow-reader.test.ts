/**
 * The fast path's replies come from the reply writer's own buffer; a write the kernel cannot take at
 * once stays referenced by the socket. A client that stops reading while pipelined GETs of different
 * values pile up must still receive every reply byte for byte (no later reply written over an
 * in-flight one).
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { encodeCommand } from '../../support/resp-harness.ts';

let server: EngineServer;
beforeAll(async () => {
  server = await startEngineServer({ port: 0 });
});
afterAll(async () => {
  await server?.close();
});

/** Distinct printable bytes per key so a mixed-up reply cannot pass. */
function patterned(i: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let j = 0; j < size; j++) b[j] = 33 + ((i * 7 + j * 13 + (j >> 8)) % 90);
  return b;
}

describe('fast path: slow reader', () => {
  it('every pipelined GET reply arrives intact while the client is not reading', async () => {
    const keys = 64;
    const sizes = [10, 700, 4000, 12000, 16000];
    const values = Array.from({ length: keys }, (_, i) => patterned(i, sizes[i % sizes.length]!));
    const sock = net.connect(server.port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    const setFrames = Buffer.concat(values.map((v, i) => encodeCommand(['SET', `slow:${i}`, v])));
    sock.write(setFrames);
    const okBytes = keys * 5;
    while (Buffer.concat(chunks).length < okBytes) await new Promise((r) => setTimeout(r, 10));
    expect(Buffer.concat(chunks).toString()).toBe('+OK\r\n'.repeat(keys));
    chunks.length = 0;

    // ~18 MB of replies, far past the socket buffers: most writes go asynchronous.
    const rounds = 40;
    const order: number[] = [];
    const frames: Buffer[] = [];
    for (let r = 0; r < rounds; r++)
      for (let i = 0; i < keys; i++) {
        const k = (i * 5 + r) % keys;
        order.push(k);
        frames.push(encodeCommand(['GET', `slow:${k}`]));
      }
    const expected = Buffer.concat(
      order.flatMap((k) => [Buffer.from(`$${values[k]!.length}\r\n`), values[k]!, Buffer.from('\r\n')]),
    );
    sock.pause();
    // Written a few requests at a time, apart, so the server flushes a small reply buffer per read
    // while nothing is read: once the socket buffers are full, those writes go asynchronous.
    sock.setNoDelay(true);
    for (let at = 0; at < frames.length; at += 4) {
      sock.write(Buffer.concat(frames.slice(at, at + 4)));
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 200));
    sock.resume();
    const deadline = Date.now() + 60_000;
    while (Buffer.concat(chunks).length < expected.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    sock.destroy();
    const got = Buffer.concat(chunks);
    expect(got.length).toBe(expected.length);
    const firstDiff = got.findIndex((b, i) => b !== expected[i]);
    expect(firstDiff).toBe(-1);
  });
});
