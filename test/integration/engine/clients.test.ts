/**
 * Real clients against the engine server: iovalkey (RESP2 and RESP3-free paths, pipelines, binary
 * values, leases and CACHE.WAIT across connections) and valkey-cli (from Valkey 8), unchanged.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';

const run = promisify(execFile);
let server: EngineServer;
let authed: EngineServer;

beforeAll(async () => {
  server = await startEngineServer({ port: 0 });
  authed = await startEngineServer({ port: 0, requirepass: 's3cret' });
});
afterAll(async () => {
  await server?.close();
  await authed?.close();
});

describe('iovalkey', () => {
  it('strings, TTLs, hashes, binary values and pipelines', async () => {
    const c = new Valkey({ port: server.port, host: '127.0.0.1' });
    try {
      expect(await c.set('k', 'v', 'PX', 5000)).toBe('OK');
      expect(await c.get('k')).toBe('v');
      expect(await c.pttl('k')).toBeGreaterThan(4000);
      const bin = Buffer.from([0, 1, 2, 255, 13, 10]);
      await c.set('bin', bin);
      expect(await c.getBuffer('bin')).toEqual(bin);
      expect(await c.hset('sess:1', { user: 'ada', n: '1' })).toBe(2);
      expect(await c.hgetall('sess:1')).toEqual({ user: 'ada', n: '1' });
      expect(await c.hincrby('sess:1', 'n', 5)).toBe(6);
      const res = await c.pipeline().incr('n').incr('n').get('n').exec();
      expect(res?.map(([, v]) => v)).toEqual([1, 2, '2']);
      await expect(c.incr('k')).rejects.toThrow('ERR value is not an integer or out of range');
      const keys: string[] = [];
      for await (const batch of c.scanStream({ count: 2 })) keys.push(...(batch as string[]));
      expect(keys.sort()).toEqual(['bin', 'k', 'n', 'sess:1']);
    } finally {
      c.disconnect();
    }
  });

  it('a waiter on another connection is woken by a lease fill (CACHE.WAIT, no polling)', async () => {
    const a = new Valkey({ port: server.port });
    const b = new Valkey({ port: server.port });
    try {
      const token = (await a.call('CACHE.LEASE', ['page:1', '5000'])) as string;
      expect(typeof token).toBe('string');
      expect(await b.call('CACHE.LEASE', ['page:1', '5000'])).toBeNull();
      const waiting = b.call('CACHE.WAIT', ['page:1', '5000']);
      await new Promise((r) => setTimeout(r, 20));
      expect(await a.call('CACHE.FILL', ['page:1', token, '<html>', '0'])).toBe('filled');
      expect(await waiting).toBe('filled');
      expect(await b.get('page:1')).toBe('<html>');
      const t2 = (await a.call('CACHE.LEASE', ['page:2', '5000'])) as string;
      await b.call('CACHE.INVALIDATE', ['page:2', '0105']);
      expect(await a.call('CACHE.FILL', ['page:2', t2, 'stale', '0'])).toBe('rejected');
      expect(await a.call('CACHE.WAIT', ['page:3', '10'])).toBe('timeout');
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });

  it('requirepass: NOAUTH until AUTH, and iovalkey authenticates with a password', async () => {
    const anon = new Valkey({ port: authed.port, maxRetriesPerRequest: 0 });
    anon.on('error', () => {});
    await expect(anon.get('x')).rejects.toThrow('NOAUTH Authentication required.');
    anon.disconnect();
    const c = new Valkey({ port: authed.port, password: 's3cret' });
    expect(await c.set('x', '1')).toBe('OK');
    c.disconnect();
  });
});

describe('valkey-cli', () => {
  const cli = async (port: number, ...args: string[]): Promise<string> =>
    (await run('valkey-cli', ['-p', String(port), ...args])).stdout;

  it('runs commands and prints Valkey-formatted replies', async () => {
    expect(await cli(server.port, 'SET', 'cli:k', 'hello')).toBe('OK\n');
    expect(await cli(server.port, 'GET', 'cli:k')).toBe('hello\n');
    expect(await cli(server.port, 'GET', 'cli:none')).toBe('\n');
    expect(await cli(server.port, 'HSET', 'cli:h', 'a', '1')).toBe('1\n');
    expect(await cli(server.port, '-3', 'HGETALL', 'cli:h')).toBe('a 1\n');
    expect(await cli(server.port, 'CACHE.REFRESH', 'cli:v', 'x', '0', '0210')).toBe('applied\n');
    expect(await cli(server.port, 'CACHE.REFRESH', 'cli:v', 'y', '0', '0209')).toBe('fenced\n');
    expect(await cli(server.port, 'INFO', 'keyspace')).toMatch(/^# Keyspace\r?\ndb0:keys=\d+/);
  });

  it('pipes commands (--pipe mass insertion)', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => `SET pipe:${i} ${i}\r\n`).join('');
    // Asynchronous on purpose: the server runs in this process, so a blocking exec would deadlock.
    const child = spawn('valkey-cli', ['-p', String(server.port), '--pipe']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stdin.end(input);
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out).toContain('errors: 0, replies: 1000');
    expect(server.engine.get('pipe:999')).toBe('999');
  });
});
