/**
 * The wire protocol under stress: frames split at every byte, deep pipelines, many clients at once,
 * values near proto-max-bulk-len, and malformed input, which must get Valkey's exact protocol error
 * and a closed connection (checked side by side with a real valkey-server).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
let small: EngineServer;

beforeAll(async () => {
  small = await startEngineServer({ port: 0, protoMaxBulkLen: 1024 * 1024 });
});
afterAll(async () => {
  await small?.close();
});

describe('framing', () => {
  it('parses commands split at every byte boundary', async () => {
    const c = await RawClient.connect(servers.engine.port);
    const bytes = Buffer.concat([
      encodeCommand(['SET', 'split', Buffer.from([0, 13, 10, 255, 36, 42])]),
      encodeCommand(['GET', 'split']),
      Buffer.from('PING\r\n'),
    ]);
    for (let i = 0; i < bytes.length; i++) {
      c.write(bytes.subarray(i, i + 1));
      await new Promise((r) => setImmediate(r));
    }
    expect(await c.read()).toBe('+OK\r\n');
    expect(await c.read()).toBe(`$6\r\n${Buffer.from([0, 13, 10, 255, 36, 42]).toString('latin1')}\r\n`);
    expect(await c.read()).toBe('+PONG\r\n');
    c.close();
  });

  it('answers a deep pipeline in order', async () => {
    const c = await RawClient.connect(servers.engine.port);
    const n = 5000;
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) parts.push(encodeCommand(['INCR', 'ctr']));
    c.write(Buffer.concat(parts));
    for (let i = 1; i <= n; i++) expect(await c.read()).toBe(`:${i}\r\n`);
    c.close();
  });

  it('serves many concurrent clients', async () => {
    const clients = await Promise.all(
      Array.from({ length: 100 }, () => RawClient.connect(servers.engine.port)),
    );
    await Promise.all(clients.map((c, i) => c.call('SET', `c:${i}`, String(i))));
    const got = await Promise.all(clients.map((c, i) => c.call('GET', `c:${i}`)));
    got.forEach((g, i) => {
      expect(g).toBe(`$${String(i).length}\r\n${i}\r\n`);
    });
    for (const c of clients) c.close();
  });

  it('accepts values up to proto-max-bulk-len and refuses larger ones', async () => {
    const c = await RawClient.connect(small.port);
    const big = Buffer.alloc(1024 * 1024, 0x61);
    expect(await c.call('SET', 'big', big)).toBe('+OK\r\n');
    expect(await c.call('STRLEN', 'big')).toBe(':1048576\r\n');
    c.write('*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$1048577\r\n');
    expect(await c.read()).toBe('-ERR Protocol error: invalid bulk length\r\n');
    expect(await c.waitClosed()).toBe(true);
  });

  it('a 20 MB value arriving in small writes is stored intact', async () => {
    const c = await RawClient.connect(servers.engine.port);
    const value = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < value.length; i++) value[i] = i % 251;
    const frame = encodeCommand(['SET', 'huge', value]);
    for (let i = 0; i < frame.length; i += 16 * 1024) c.write(frame.subarray(i, i + 16 * 1024));
    expect(await c.read(30_000)).toBe('+OK\r\n');
    expect(servers.engine.engine.getBuffer('huge')?.equals(value)).toBe(true);
    c.close();
  });
});

describe('malformed input: same error as Valkey, then the connection closes', () => {
  const cases: [string, string | Buffer][] = [
    ['multibulk length out of range', '*3000000000\r\n'],
    ['multibulk length not a number', '*abc\r\n'],
    ['garbage instead of $', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n'],
    ['negative bulk length', '*1\r\n$-5\r\n'],
    ['bulk length beyond 512 MB', '*1\r\n$600000000\r\n'],
    ['bulk length not a number', '*1\r\n$x\r\n'],
    ['unbalanced quotes in an inline command', 'SET "abc\r\n'],
    ['inline request over 64 KiB', Buffer.alloc(70 * 1024, 0x61)],
    ['bulk count string over 64 KiB', Buffer.concat([Buffer.from('*1\r\n$'), Buffer.alloc(70 * 1024, 0x31)])],
    ['multibulk count string over 64 KiB', Buffer.concat([Buffer.from('*'), Buffer.alloc(70 * 1024, 0x31)])],
  ];
  for (const [name, input] of cases) {
    it(name, async () => {
      const replies: (string | null)[] = [];
      const closed: boolean[] = [];
      for (const port of [servers.valkey.port, servers.engine.port]) {
        const c = await RawClient.connect(port);
        c.write(input);
        replies.push(await c.read());
        closed.push(await c.waitClosed());
        c.close();
      }
      expect(replies[1]).toBe(replies[0]);
      expect(closed).toEqual([true, true]);
    });
  }

  it('empty lines and non-positive multibulk counts are skipped, as in Valkey', async () => {
    const c = await RawClient.connect(servers.engine.port);
    c.write('\r\n*-10\r\n*0\r\nPING\r\n');
    expect(await c.read()).toBe('+PONG\r\n');
    c.close();
  });

  it('the server keeps serving other clients after protocol errors', async () => {
    const bad = await RawClient.connect(servers.engine.port);
    bad.write('*1\r\n$x\r\n');
    await bad.waitClosed();
    const good = await RawClient.connect(servers.engine.port);
    expect(await good.call('PING')).toBe('+PONG\r\n');
    good.close();
  });
});
