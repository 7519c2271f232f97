/**
 * Memory a client held is returned when it leaves (issue 13, inputs 4 and 6), measured as the
 * engine process's RSS:
 * - 40 pipelined GETs of a 50 MB value, replies never read, took RSS +3.26 GiB (the engine ran
 *   them all); now the connection stops running commands once its replies back up.
 * - a 512 MB upload abandoned midway (slow loris) left +1 GB RSS until some later GC; the bulk now
 *   goes into one buffer that is freed the moment the client goes.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answersPing, type EngineProcess, spawnEngine } from '../../support/engine-process.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';

const MB = 1024 * 1024;
let engine: EngineProcess;
beforeAll(async () => {
  engine = await spawnEngine([]);
});
afterAll(async () => {
  await engine?.stop();
});

async function connect(): Promise<net.Socket> {
  const s = net.connect(engine.port, '127.0.0.1');
  await new Promise<void>((ok, fail) => {
    s.once('connect', ok);
    s.once('error', fail);
  });
  s.on('error', () => {});
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls RSS until it is at most `bytes` (up to ~5 s); returns the last reading. */
async function rssSettlesBelow(bytes: number): Promise<number> {
  let rss = engine.rss();
  for (let i = 0; i < 50 && rss > bytes; i++) {
    await sleep(100);
    rss = engine.rss();
  }
  return rss;
}

describe('memory held by clients', () => {
  it('40 unread pipelined GETs of a 50 MB value hold about one reply, and nothing after the client leaves', async () => {
    const c = await RawClient.connect(engine.port);
    expect(await c.call('SET', 'release:big', Buffer.alloc(50 * MB, 0x61))).toBe('+OK\r\n');
    c.close();
    await sleep(300);
    const base = engine.rss();
    const s = await connect();
    s.pause();
    s.write(Buffer.concat(Array.from({ length: 40 }, () => encodeCommand(['GET', 'release:big']))));
    await sleep(1500);
    const held = engine.rss() - base;
    // One 50 MB reply buffer (plus its growth copy) at most; the 40 replies would be 2 GB.
    expect(held).toBeLessThan(300 * MB);
    expect(await answersPing(engine.port)).toBe(true);
    s.destroy();
    expect(await rssSettlesBelow(base + 100 * MB)).toBeLessThan(base + 100 * MB);
    expect(engine.alive()).toBe(true);
  }, 30_000);

  it('an abandoned 512 MB upload is released as soon as the client goes', async () => {
    const base = engine.rss();
    const s = await connect();
    s.write('*3\r\n$3\r\nSET\r\n$16\r\nrelease:upload:k\r\n$536870000\r\n');
    const chunk = Buffer.alloc(MB, 0x62);
    for (let i = 0; i < 400; i++) {
      if (!s.write(chunk)) await new Promise((r) => s.once('drain', r));
    }
    await sleep(300);
    expect(engine.rss() - base).toBeGreaterThan(300 * MB);
    s.destroy();
    expect(await rssSettlesBelow(base + 64 * MB)).toBeLessThan(base + 64 * MB);
    expect(await answersPing(engine.port)).toBe(true);
  }, 60_000);

  it('a completed large upload is stored intact (the same path, finished)', async () => {
    const value = Buffer.alloc(6 * MB + 7, 0x63);
    value.write('head', 0);
    value.write('tail', value.length - 4);
    const c = await RawClient.connect(engine.port);
    try {
      // Sent in pieces so the bulk arrives over many reads.
      const frame = encodeCommand(['SET', 'release:done', value]);
      for (let at = 0; at < frame.length; at += MB) c.write(frame.subarray(at, at + MB));
      expect(await c.read(20_000)).toBe('+OK\r\n');
      // The test client joins its reads naively: give a big reply time under a loaded machine.
      c.write(encodeCommand(['GET', 'release:done']));
      const reply = await c.read(30_000);
      expect(reply?.length).toBe(`$${value.length}\r\n`.length + value.length + 2);
      expect(reply?.slice(-6)).toBe('tail\r\n');
      expect(reply?.slice(`$${value.length}\r\n`.length, `$${value.length}\r\n`.length + 4)).toBe('head');
      expect(await c.call('STRLEN', 'release:done')).toBe(`:${value.length}\r\n`);
    } finally {
      c.close();
    }
  }, 60_000);
});
