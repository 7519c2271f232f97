/**
 * Auth that holds (issue 13, input 5): with a non-loopback bind, an authenticated client could
 * `CONFIG SET requirepass ""` and open the keyspace to the network; 200k wrong AUTHs on one
 * connection were answered at 150k/s; `--bind 127.1` (loopback) was refused without a password.
 *
 * The non-loopback servers here bind 0.0.0.0 for the length of one test, behind a random password.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { runEngineCli } from '../../../engine/cli.ts';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { RawClient } from '../../support/resp-harness.ts';

let server: EngineServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const password = (): string => randomBytes(24).toString('hex');

async function authed(port: number, pw: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  expect(await c.call('AUTH', pw)).toBe('+OK\r\n');
  return c;
}

describe('requirepass on a non-loopback bind', () => {
  it('cannot be removed at run time', async () => {
    const pw = password();
    server = await startEngineServer({ port: 0, host: '0.0.0.0', requirepass: pw });
    const c = await authed(server.port, pw);
    try {
      expect(await c.call('CONFIG', 'SET', 'requirepass', '')).toBe(
        "-ERR CONFIG SET failed (possibly related to argument 'requirepass') - can't set protected config\r\n",
      );
      const stranger = await RawClient.connect(server.port);
      expect(await stranger.call('FLUSHALL')).toBe('-NOAUTH Authentication required.\r\n');
      stranger.close();
      // Changing it to another password is fine.
      const next = password();
      expect(await c.call('CONFIG', 'SET', 'requirepass', next)).toBe('+OK\r\n');
      const again = await authed(server.port, next);
      again.close();
    } finally {
      c.close();
    }
  });

  it('can be removed with enableProtectedConfigs (Valkey enable-protected-configs)', async () => {
    const pw = password();
    server = await startEngineServer({
      port: 0,
      host: '0.0.0.0',
      requirepass: pw,
      enableProtectedConfigs: true,
    });
    const c = await authed(server.port, pw);
    expect(await c.call('CONFIG', 'SET', 'requirepass', '')).toBe('+OK\r\n');
    expect(await c.call('CONFIG', 'GET', 'enable-protected-configs')).toBe(
      '*2\r\n$24\r\nenable-protected-configs\r\n$3\r\nyes\r\n',
    );
    c.close();
  });

  it('on loopback it can be removed (nothing is exposed)', async () => {
    const pw = password();
    server = await startEngineServer({ port: 0, requirepass: pw });
    const c = await authed(server.port, pw);
    expect(await c.call('CONFIG', 'SET', 'requirepass', '')).toBe('+OK\r\n');
    c.close();
  });
});

describe('loopback binds', () => {
  it('accepts 127.1 and any 127/8 address without a password', async () => {
    server = await startEngineServer({ port: 0, host: '127.1' });
    expect(server.host).toBe('127.0.0.1');
    const c = await RawClient.connect(server.port);
    expect(await c.call('PING')).toBe('+PONG\r\n');
    c.close();
    const stop = new AbortController();
    let port = 0;
    const exit = runEngineCli(['--bind', '127.0.0.2', '--port', '0'], {
      signal: stop.signal,
      onListening: (s) => {
        port = s.port;
      },
    });
    while (port === 0) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    expect(await exit).toBe(0);
  });
});

describe('failed AUTH', () => {
  it('is limited per connection (the last seven delayed, closed after the tenth) and counted', async () => {
    const pw = password();
    server = await startEngineServer({ port: 0, requirepass: pw });
    const c = await RawClient.connect(server.port);
    const frame = '*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n'.repeat(15);
    c.write(frame);
    const replies: (string | null)[] = [];
    for (let i = 0; i < 15; i++) {
      const r = await c.read(10_000);
      if (r === null) break;
      replies.push(r);
    }
    expect(replies).toEqual(
      Array.from({ length: 10 }, () => '-WRONGPASS invalid username-password pair or user is disabled.\r\n'),
    );
    expect(await c.waitClosed()).toBe(true);
    const admin = await authed(server.port, pw);
    const info = (await admin.call('INFO', 'stats')) ?? '';
    expect(info).toMatch(/acl_access_denied_auth:10\r\n/);
    admin.close();
  }, 20_000);

  it('HELLO AUTH failures count the same way', async () => {
    const pw = password();
    server = await startEngineServer({ port: 0, requirepass: pw });
    const c = await RawClient.connect(server.port);
    expect(await c.call('HELLO', '3', 'AUTH', 'default', 'nope')).toBe(
      '-WRONGPASS invalid username-password pair or user is disabled.\r\n',
    );
    c.close();
    const admin = await authed(server.port, pw);
    expect(await admin.call('INFO', 'stats')).toMatch(/acl_access_denied_auth:1\r\n/);
    admin.close();
  });
});
