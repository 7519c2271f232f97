/**
 * Client limits as Valkey has them (issue 13, inputs 3, 4 and 6): client-output-buffer-limit,
 * maxmemory-clients, client-query-buffer-limit, the idle timeout, and a proto-max-bulk-len that
 * CONFIG SET cannot raise past what a V8 string holds. Each limit closes the offending client and
 * counts it in INFO; the server keeps serving everyone else.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';

let server: EngineServer;
const BIG = 8 * 1024 * 1024;

beforeAll(async () => {
  server = await startEngineServer({ port: 0 });
  const c = await RawClient.connect(server.port);
  expect(await c.call('SET', 'limits:big', Buffer.alloc(BIG, 0x61))).toBe('+OK\r\n');
  c.close();
});
afterAll(async () => {
  await server?.close();
});

async function admin(...args: string[]): Promise<string | null> {
  const c = await RawClient.connect(server.port);
  try {
    return await c.call(...args);
  } finally {
    c.close();
  }
}

async function stat(name: string): Promise<number> {
  const text = (await admin('INFO', 'everything')) ?? '';
  const m = new RegExp(`^${name}:(\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`INFO has no ${name}`);
  return Number(m[1]);
}

/** A socket that sends `count` GETs of the big value and never reads. */
async function unreadGets(count: number): Promise<net.Socket> {
  const s = net.connect(server.port, '127.0.0.1');
  await new Promise<void>((ok, fail) => {
    s.once('connect', ok);
    s.once('error', fail);
  });
  s.on('error', () => {});
  s.pause();
  s.write(Buffer.concat(Array.from({ length: count }, () => encodeCommand(['GET', 'limits:big']))));
  return s;
}

function closedWithin(s: net.Socket, ms: number): Promise<boolean> {
  if (s.destroyed || s.readyState === 'closed') return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
    // A paused socket only notices the peer's close once it reads again.
    s.resume();
  });
}

describe('client-output-buffer-limit', () => {
  it('closes a client whose unread replies pass the hard limit, and counts it', async () => {
    expect(await admin('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 4mb 0 0')).toBe('+OK\r\n');
    const before = await stat('client_output_buffer_limit_disconnections');
    try {
      const s = await unreadGets(10);
      await new Promise((r) => setTimeout(r, 300));
      expect(await closedWithin(s, 5000)).toBe(true);
      expect(await stat('client_output_buffer_limit_disconnections')).toBe(before + 1);
      expect(await admin('PING')).toBe('+PONG\r\n');
    } finally {
      await admin('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0');
    }
  });

  it('closes a client that stays above the soft limit for its seconds', async () => {
    expect(await admin('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 1mb 1')).toBe('+OK\r\n');
    const before = await stat('client_output_buffer_limit_disconnections');
    try {
      const s = await unreadGets(10);
      // The client must not read (that would drain it below the soft limit): watch the counter.
      let closed = before;
      for (let i = 0; i < 100 && closed === before; i++) {
        await new Promise((r) => setTimeout(r, 100));
        closed = await stat('client_output_buffer_limit_disconnections');
      }
      expect(closed).toBe(before + 1);
      s.destroy();
    } finally {
      await admin('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0');
    }
  });

  it('reads and writes the Valkey format, pubsub class included', async () => {
    expect(await admin('CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 64mb 16mb 30')).toBe('+OK\r\n');
    expect(await admin('CONFIG', 'GET', 'client-output-buffer-limit')).toContain(
      'normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 30',
    );
    expect(await admin('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb')).toBe(
      "-ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.\r\n",
    );
  });

  it('without a limit, a client that does not read stops being run: it holds about one reply', async () => {
    const s = await unreadGets(40);
    await new Promise((r) => setTimeout(r, 500));
    const text = (await admin('INFO', 'clients')) ?? '';
    const held = Number(/client_recent_max_output_buffer:(\d+)/.exec(text)![1]);
    // Forty replies would be 320 MiB; the writer stops after the one that passed its high-water mark.
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(2 * BIG + 1024 * 1024);
    s.destroy();
  });
});

describe('maxmemory-clients', () => {
  it('closes the client holding the most when all clients together pass it', async () => {
    expect(await admin('CONFIG', 'SET', 'maxmemory-clients', '4mb')).toBe('+OK\r\n');
    const before = await stat('evicted_clients');
    try {
      const s = await unreadGets(4);
      expect(await closedWithin(s, 5000)).toBe(true);
      expect(await stat('evicted_clients')).toBeGreaterThan(before);
      expect(await admin('PING')).toBe('+PONG\r\n');
    } finally {
      await admin('CONFIG', 'SET', 'maxmemory-clients', '0');
    }
  });
});

describe('client-query-buffer-limit and proto-max-bulk-len', () => {
  it('closes a client whose pending request passes client-query-buffer-limit, and counts it', async () => {
    expect(await admin('CONFIG', 'SET', 'client-query-buffer-limit', '1mb')).toBe('+OK\r\n');
    const before = await stat('client_query_buffer_limit_disconnections');
    try {
      const c = await RawClient.connect(server.port);
      c.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n');
      expect(await c.waitClosed()).toBe(true);
      expect(await stat('client_query_buffer_limit_disconnections')).toBe(before + 1);
    } finally {
      await admin('CONFIG', 'SET', 'client-query-buffer-limit', '1gb');
    }
  });

  it('CONFIG SET proto-max-bulk-len cannot pass the longest V8 string (a 600 MB SET ended the process)', async () => {
    expect(await admin('CONFIG', 'SET', 'proto-max-bulk-len', '1gb')).toBe(
      "-ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 536870888 inclusive\r\n",
    );
    expect(await admin('CONFIG', 'GET', 'proto-max-bulk-len')).toBe(
      '*2\r\n$18\r\nproto-max-bulk-len\r\n$9\r\n536870912\r\n'.replace('536870912', '536870888'),
    );
    const c = await RawClient.connect(server.port);
    c.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000000\r\n');
    expect(await c.read()).toBe('-ERR Protocol error: invalid bulk length\r\n');
    expect(await c.waitClosed()).toBe(true);
  });
});

describe('timeout', () => {
  it('closes idle clients after `timeout` seconds and keeps active ones', async () => {
    expect(await admin('CONFIG', 'SET', 'timeout', '1')).toBe('+OK\r\n');
    try {
      const idle = await RawClient.connect(server.port);
      const active = await RawClient.connect(server.port);
      for (let i = 0; i < 8 && !idle.closed; i++) {
        expect(await active.call('PING')).toBe('+PONG\r\n');
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await idle.waitClosed(5000)).toBe(true);
      expect(await active.call('PING')).toBe('+PONG\r\n');
      // A client blocked in CACHE.WAIT is not idle: it still gets its reply.
      const waiter = await RawClient.connect(server.port);
      waiter.write(encodeCommand(['CACHE.WAIT', 'limits:timeout-wait', '2500']));
      expect(await waiter.read(10_000)).toBe('+timeout\r\n');
      waiter.close();
      active.close();
    } finally {
      await admin('CONFIG', 'SET', 'timeout', '0');
    }
  });
});

describe('CACHE.WAIT with a timeout beyond setTimeout range', () => {
  it('waits for the key instead of answering timeout at once', async () => {
    const waiter = await RawClient.connect(server.port);
    const writer = await RawClient.connect(server.port);
    try {
      waiter.write(encodeCommand(['CACHE.WAIT', 'limits:wait', '3000000000']));
      expect(await writer.call('PING')).toBe('+PONG\r\n');
      await new Promise((r) => setTimeout(r, 100));
      expect(await writer.call('SET', 'limits:wait', 'v')).toBe('+OK\r\n');
      expect(await waiter.read()).toBe('+written\r\n');
    } finally {
      waiter.close();
      writer.close();
    }
  });
});
