/**
 * The server over TLS (optional, `tls: { key, cert }`): iovalkey connects with TLS and the same
 * commands work. The certificate is generated for the test with openssl (self-signed, 127.0.0.1).
 *
 * Regression (issue 13, input 1): TLS + pipelining aborted the process with
 * `Assertion failed: !current_write_` — replies went to the TLS handle while its previous write was
 * still in flight. The engine runs as its own process here so an abort shows as a dead process.
 */
import tls from 'node:tls';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import {
  type EngineProcess,
  makeTestCert,
  spawnEngine,
  type TestCert,
  valkeyBenchmark,
} from '../../support/engine-process.ts';
import { encodeCommand } from '../../support/resp-harness.ts';

let server: EngineServer;
let material: TestCert;

beforeAll(async () => {
  material = makeTestCert();
  server = await startEngineServer({ port: 0, tls: { key: material.key, cert: material.cert } });
});
afterAll(async () => {
  await server?.close();
});

/** One TLS round trip: sends `args`, resolves with the first reply bytes. */
async function tlsCall(port: number, ca: Buffer, args: string[]): Promise<string> {
  const s = tls.connect({ port, host: '127.0.0.1', ca });
  try {
    await new Promise<void>((ok, fail) => {
      s.once('secureConnect', ok);
      s.once('error', fail);
    });
    s.write(encodeCommand(args));
    return await new Promise<string>((ok, fail) => {
      s.once('data', (d: Buffer) => ok(d.toString('latin1')));
      s.once('error', fail);
    });
  } finally {
    s.destroy();
  }
}

describe('engine server over TLS', () => {
  it('serves iovalkey with TLS', async () => {
    const c = new Valkey({ port: server.port, host: '127.0.0.1', tls: { ca: material.cert } });
    try {
      expect(await c.set('tls:k', 'v')).toBe('OK');
      expect(await c.get('tls:k')).toBe('v');
      expect(await c.call('CACHE.REFRESH', ['tls:v', 'x', '0', '0210'])).toBe('applied');
    } finally {
      c.disconnect();
    }
  });
});

describe('TLS + pipelining (issue 13: Assertion failed: !current_write_)', () => {
  let engine: EngineProcess;
  beforeAll(async () => {
    engine = await spawnEngine(['--tls-cert', material.certFile, '--tls-key', material.keyFile]);
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('survives valkey-benchmark SET/GET of 1000-byte values, -P 16, 20 clients', async () => {
    const out = await valkeyBenchmark(
      [
        '--tls',
        '--cacert',
        material.certFile,
        '-p',
        String(engine.port),
        '-t',
        'set,get',
        '-d',
        '1000',
        '-P',
        '16',
        '-c',
        '20',
        '-n',
        '40000',
        '-q',
      ],
      engine,
    );
    expect(out).toMatch(/GET: [\d.]+ requests per second/);
    expect(engine.alive()).toBe(true);
    expect(await tlsCall(engine.port, material.cert, ['GET', 'key:__rand_int__'])).toMatch(/^\$1000\r\n/);
  }, 120_000);

  it('survives 130k pipelined GETs whose replies are never read, then serves another client', async () => {
    expect(await tlsCall(engine.port, material.cert, ['SET', 'tls:big', 'x'.repeat(1000)])).toBe('+OK\r\n');
    const s = tls.connect({ port: engine.port, host: '127.0.0.1', ca: material.cert });
    await new Promise<void>((ok, fail) => {
      s.once('secureConnect', ok);
      s.once('error', fail);
    });
    s.on('error', () => {});
    s.pause();
    const one = encodeCommand(['GET', 'tls:big']);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
    for (let i = 0; i < 130; i++) s.write(batch);
    // Give the server time to fill the socket and stop reading this client.
    await new Promise((r) => setTimeout(r, 1500));
    expect(engine.alive()).toBe(true);
    expect(await tlsCall(engine.port, material.cert, ['PING'])).toBe('+PONG\r\n');
    s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(engine.alive()).toBe(true);
    expect(await tlsCall(engine.port, material.cert, ['GET', 'tls:big'])).toMatch(/^\$1000\r\n/);
  }, 60_000);
});
