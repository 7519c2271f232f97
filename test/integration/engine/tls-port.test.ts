/**
 * Valkey's `tls-port` on the engine server, against a real valkey-server 8: CONFIG SET tls-port
 * without a certificate, with one (TLS served beside the plain port, client certificates per
 * `tls-auth-clients`), with a certificate that does not load, on a port in use, and back to 0 —
 * the same replies byte for byte, and the same connections accepted and refused. Also the
 * `tlsPort` start option.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { startEngineServer } from '../../../engine/index.ts';
import { makeTestCert, type TestCert } from '../../support/engine-process.ts';
import { freePort } from '../../support/own-valkey.ts';
import { compareSteps } from '../../support/parity-steps.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const material: TestCert = makeTestCert();
const caFile = join(material.dir, 'ca.pem');
writeFileSync(caFile, readFileSync(material.certFile)); // self-signed: the certificate is its own CA

/** PING over TLS on `port`; with `clientCert` the test certificate is presented. Resolves with the reply, or `refused`. */
async function tlsPing(port: number, clientCert: boolean): Promise<string> {
  const s = tls.connect({
    port,
    host: '127.0.0.1',
    ca: material.cert,
    ...(clientCert ? { cert: material.cert, key: material.key } : {}),
  });
  try {
    return await new Promise<string>((ok) => {
      s.once('secureConnect', () => s.write(encodeCommand(['PING'])));
      s.once('data', (d: Buffer) => ok(d.toString('latin1')));
      s.once('error', () => ok('refused'));
      s.once('close', () => ok('refused'));
    });
  } finally {
    s.destroy();
  }
}

/** Runs CONFIG SET with `pairs` on one connection; returns the raw reply. */
async function configSet(port: number, ...pairs: string[]): Promise<string | null> {
  const c = await RawClient.connect(port);
  try {
    return await c.call('CONFIG', 'SET', ...pairs);
  } finally {
    c.close();
  }
}

afterAll(async () => {
  for (const port of [servers.valkey.port, servers.engine.port]) {
    await configSet(port, 'tls-port', '0');
    await configSet(port, 'tls-cert-file', '', 'tls-key-file', '', 'tls-ca-cert-file', '');
  }
});

describe('tls-port as Valkey 8', () => {
  it('without a certificate: refused with Valkey error; file names alone are only stored', async () => {
    await compare([
      'CONFIG GET tls-port',
      'CONFIG SET tls-port 1',
      'CONFIG GET tls-port',
      'CONFIG SET tls-port 0',
      'CONFIG SET tls-port 70000',
      'CONFIG SET tls-port x',
      'CONFIG SET tls-cert-file /nonexistent/cert.pem',
      'CONFIG GET tls-cert-file',
      'CONFIG SET tls-port 1',
      'CONFIG SET tls-cert-file \\s',
      'CONFIG SET tls-cert-file',
    ]);
    await compare(['CONFIG SET tls-cert-file ']);
  });

  it('with certificate, key and CA: serves TLS beside the plain port, client certificates as tls-auth-clients says', async () => {
    const results: Record<string, unknown[]> = {};
    for (const [name, port] of [
      ['valkey', servers.valkey.port],
      ['engine', servers.engine.port],
    ] as const) {
      const tlsPort = await freePort();
      const r: unknown[] = [];
      r.push(await configSet(port, 'tls-cert-file', material.certFile, 'tls-key-file', material.keyFile));
      r.push(await configSet(port, 'tls-port', String(tlsPort))); // no CA yet: refused as Valkey
      r.push(
        await configSet(
          port,
          'tls-ca-cert-file',
          caFile,
          'tls-auth-clients',
          'yes',
          'tls-port',
          String(tlsPort),
        ),
      );
      r.push(await tlsPing(tlsPort, true));
      r.push(await tlsPing(tlsPort, false)); // tls-auth-clients yes: no certificate, no connection
      r.push(await configSet(port, 'tls-auth-clients', 'no'));
      r.push(await tlsPing(tlsPort, false));
      r.push(await configSet(port, 'tls-auth-clients', 'optional'));
      r.push(await tlsPing(tlsPort, false));
      r.push(await tlsPing(tlsPort, true));
      // A certificate that does not load changes nothing.
      r.push(await configSet(port, 'tls-cert-file', '/nonexistent/cert.pem'));
      const c = await RawClient.connect(port);
      r.push(
        (await c.call('CONFIG', 'GET', 'tls-port')) ===
          `*2\r\n$8\r\ntls-port\r\n$${String(tlsPort).length}\r\n${tlsPort}\r\n`,
      );
      r.push(await c.call('CONFIG', 'GET', 'tls-cert-file'));
      c.close();
      r.push(await tlsPing(tlsPort, true));
      // A port in use (the plain one) cannot be listened on; the old TLS port keeps serving.
      r.push(await configSet(port, 'tls-port', String(port)));
      r.push(await tlsPing(tlsPort, true));
      // Another free port moves the listener.
      const moved = await freePort();
      r.push(await configSet(port, 'tls-port', String(moved)));
      r.push(await tlsPing(moved, true));
      r.push(await tlsPing(tlsPort, true));
      r.push(await configSet(port, 'tls-port', '0'));
      r.push(await tlsPing(moved, true));
      results[name] = r.map((x) => (typeof x === 'string' ? x.replace(material.certFile, 'CERT') : x));
    }
    expect(results.engine).toEqual(results.valkey);
    expect(results.engine).toContain('+PONG\r\n');
    expect(results.engine!.filter((x) => x === 'refused').length).toBeGreaterThanOrEqual(3);
  });

  it('startEngineServer({ tls, tlsPort }) serves plain on port and TLS on tlsPort', async () => {
    const server = await startEngineServer({
      port: 0,
      tls: { key: material.key, cert: material.cert },
      tlsPort: 0,
    });
    try {
      expect(server.tlsPort).toBeGreaterThan(0);
      expect(server.tlsPort).not.toBe(server.port);
      expect(await tlsPing(server.tlsPort, false)).toBe('+PONG\r\n');
      const plain = await RawClient.connect(server.port);
      expect(await plain.call('PING')).toBe('+PONG\r\n');
      expect(await plain.call('CONFIG', 'GET', 'tls-port')).toBe(
        `*2\r\n$8\r\ntls-port\r\n$${String(server.tlsPort).length}\r\n${server.tlsPort}\r\n`,
      );
      plain.close();
    } finally {
      await server.close();
    }
  });
});

async function compare(steps: string[]): Promise<void> {
  await compareSteps(servers.valkey.port, servers.engine.port, steps);
}
