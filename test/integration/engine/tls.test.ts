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
import { SocketWriter } from '../../../engine/server/socket-writer.ts';
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

describe('TLS reply buffers are reused only after their write completed', () => {
  it('a TLS socket gives back each asynchronously written buffer, complete, in order', async () => {
    const written: Buffer[] = [];
    let writer: SocketWriter | undefined;
    const srv = tls.createServer({ key: material.key, cert: material.cert }, (sock) => {
      writer = new SocketWriter(
        sock,
        () => {},
        (b) => written.push(b),
      );
    });
    await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
    const port = (srv.address() as { port: number }).port;
    const client = tls.connect({ port, host: '127.0.0.1', ca: material.cert });
    let received = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
    });
    try {
      await new Promise<void>((ok, fail) => {
        client.once('secureConnect', ok);
        client.once('error', fail);
      });
      while (writer === undefined) await new Promise((r) => setTimeout(r, 5));
      const sent: Buffer[] = [];
      for (let i = 0; i < 20; i++) {
        const b = Buffer.from(`reply-${i};`.repeat(i + 1));
        sent.push(b);
        writer.write(b);
        // The next write goes direct only once the last completed (as the connection's flushes do).
        while (!writer.direct) await new Promise((r) => setTimeout(r, 1));
      }
      const total = sent.reduce((n, b) => n + b.length, 0);
      while (received.length < total) await new Promise((r) => setTimeout(r, 5));
      expect(received.equals(Buffer.concat(sent))).toBe(true);
      // TLS writes complete asynchronously, and each buffer comes back once its write is done.
      expect(written.length).toBe(20);
      for (let i = 0; i < written.length; i++) expect(written[i]).toBe(sent[i]);
    } finally {
      client.destroy();
      srv.close();
    }
  });

  it('2,000 replies of changing sizes over one TLS connection arrive intact', async () => {
    const c = new Valkey({ port: server.port, host: '127.0.0.1', tls: { ca: material.cert } });
    try {
      const values = Array.from({ length: 50 }, (_, i) =>
        `${i}:`.padEnd(1 + ((i * 7919) % 40_000), 'abcdefgh'),
      );
      for (let i = 0; i < values.length; i++) await c.set(`tls:reuse:${i}`, values[i]!);
      for (let round = 0; round < 40; round++) {
        const i = (round * 13) % values.length;
        // Sequential (each flush alone) and pipelined (flushes behind one in flight) reads.
        expect(await c.get(`tls:reuse:${i}`)).toBe(values[i]);
        const p = c.pipeline();
        for (let j = 0; j < 48; j++) p.get(`tls:reuse:${(i + j) % values.length}`);
        const replies = (await p.exec())!.map(([, v]) => v);
        expect(replies).toEqual(Array.from({ length: 48 }, (_, j) => values[(i + j) % values.length]));
      }
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
