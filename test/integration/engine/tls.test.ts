/**
 * The server over TLS (optional, `tls: { key, cert }`): iovalkey connects with TLS and the same
 * commands work. The certificate is generated for the test with openssl (self-signed, 127.0.0.1).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';

let server: EngineServer;
let cert: Buffer;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'engine-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'));
  server = await startEngineServer({ port: 0, tls: { key: readFileSync(join(dir, 'key.pem')), cert } });
});
afterAll(async () => {
  await server?.close();
});

describe('engine server over TLS', () => {
  it('serves iovalkey with TLS', async () => {
    const c = new Valkey({ port: server.port, host: '127.0.0.1', tls: { ca: cert } });
    try {
      expect(await c.set('tls:k', 'v')).toBe('OK');
      expect(await c.get('tls:k')).toBe('v');
      expect(await c.call('CACHE.REFRESH', ['tls:v', 'x', '0', '0210'])).toBe('applied');
    } finally {
      c.disconnect();
    }
  });
});
