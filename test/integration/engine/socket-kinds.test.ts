/**
 * Reply writing on plain TCP and Unix sockets (TLS: tls.test.ts): the same pipelined load and the
 * same unread pipeline on each kind, against one engine process listening on both. The writer keeps
 * at most one native write in flight on every kind (issue 13, input 1).
 */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  answersPing,
  type EngineProcess,
  spawnEngine,
  valkeyBenchmark,
} from '../../support/engine-process.ts';
import { encodeCommand } from '../../support/resp-harness.ts';

let engine: EngineProcess;
const unixPath = join(mkdtempSync(join(tmpdir(), 'engine-unix-')), 'engine.sock');

beforeAll(async () => {
  engine = await spawnEngine(['--unixsocket', unixPath]);
});
afterAll(async () => {
  await engine?.stop();
});

const kinds = [
  {
    name: 'plain TCP',
    target: () => ['-p', String(engine.port)],
    connect: () => net.connect(engine.port, '127.0.0.1'),
  },
  { name: 'Unix socket', target: () => ['-s', unixPath], connect: () => net.connect(unixPath) },
];

async function call(s: net.Socket, args: string[]): Promise<string> {
  s.write(encodeCommand(args));
  return new Promise((ok) => s.once('data', (d: Buffer) => ok(d.toString('latin1'))));
}

describe.each(kinds)('reply writing over $name', ({ target, connect }) => {
  it('survives valkey-benchmark SET/GET of 1000-byte values, -P 16, 20 clients', async () => {
    const out = await valkeyBenchmark(
      [...target(), '-t', 'set,get', '-d', '1000', '-P', '16', '-c', '20', '-n', '40000', '-q'],
      engine,
    );
    expect(out).toMatch(/GET: [\d.]+ requests per second/);
    expect(engine.alive()).toBe(true);
  }, 120_000);

  it('survives 130k pipelined GETs whose replies are never read, then serves', async () => {
    const setter = connect();
    expect(await call(setter, ['SET', 'kinds:v', 'x'.repeat(1000)])).toBe('+OK\r\n');
    setter.destroy();
    const s = connect();
    s.on('error', () => {});
    s.pause();
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => encodeCommand(['GET', 'kinds:v'])));
    for (let i = 0; i < 130; i++) s.write(batch);
    await new Promise((r) => setTimeout(r, 1000));
    expect(engine.alive()).toBe(true);
    expect(await answersPing(engine.port)).toBe(true);
    s.destroy();
    const after = connect();
    expect(await call(after, ['GET', 'kinds:v'])).toMatch(/^\$1000\r\n/);
    after.destroy();
  }, 60_000);
});
