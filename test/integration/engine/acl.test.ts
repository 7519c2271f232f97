/**
 * ACL users (issue 13): the same ACL script runs against a real valkey-server and the engine server
 * and every reply must be byte-identical — rule errors, NOPERM for commands and keys, WRONGPASS,
 * ACL LIST/USERS/WHOAMI/DELUSER. Then what Valkey does not have: on a non-loopback bind a
 * passwordless user is refused like removing requirepass, and deleting a user closes its connections.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startEngineServer } from '../../../engine/index.ts';
import { replyMismatches } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const SCRIPT = [
  'ACL SETUSER x +@foo',
  'ACL SETUSER x bogus',
  'ACL SETUSER x +nocmd',
  'ACL SETUSER alice on >pw +get +set ~app:*',
  'ACL SETUSER bob on >pw2 +@read ~*',
  'ACL SETUSER d on >p +@write -del ~*',
  'ACL SETUSER e on >p +@all -flushall ~k*',
  'ACL SETUSER h on >a <a >b',
  'ACL SETUSER h <zz',
  'ACL SETUSER k allkeys ~x',
  'ACL SETUSER f on nopass +@all allkeys resetkeys ~x allcommands nocommands +get resetpass >q',
  'ACL LIST',
  'ACL USERS',
  'ACL DELUSER default',
  'ACL DELUSER nobody',
  'ACL',
  'ACL FOO',
  'AUTH alice pw',
  'SET other 1',
  'SET app:1 1',
  'DEL app:1',
  'GET app:1',
  'MSET app:1 1 zz 2',
  'ACL WHOAMI',
  'AUTH alice bad',
  'AUTH nouser x',
  'AUTH d p',
  'DEL a',
  'SET a 1',
  'GET a',
  'AUTH e p',
  'FLUSHALL',
  'GET zz',
  'GET kk',
  'MGET kk zz',
  'AUTH bob pw2',
  'GET app:1',
  'SET app:1 2',
  'AUTH default anything',
  'ACL WHOAMI',
  'ACL DELUSER alice bob d e h f',
  'ACL USERS',
].map((line) => line.split(' '));

describe('ACL users match Valkey 8 byte for byte', () => {
  it('rules, NOPERM, WRONGPASS and the ACL subcommands', async () => {
    const a = await RawClient.connect(servers.valkey.port);
    const b = await RawClient.connect(servers.engine.port);
    try {
      expect(await replyMismatches(a, b, SCRIPT)).toBe('');
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('ACL users beyond Valkey', () => {
  it('refuses a passwordless user on a non-loopback bind without enable-protected-configs', async () => {
    const pw = randomBytes(24).toString('hex');
    const exposed = await startEngineServer({ port: 0, host: '0.0.0.0', requirepass: pw });
    try {
      const c = await RawClient.connect(exposed.port);
      expect(await c.call('AUTH', pw)).toBe('+OK\r\n');
      expect(await c.call('ACL', 'SETUSER', 'open', 'on', 'nopass', '+@all', '~*')).toBe(
        "-ERR Error in ACL SETUSER modifier 'nopass': a user without a password on a non-loopback bind needs enable-protected-configs\r\n",
      );
      expect(await c.call('ACL', 'USERS')).toBe('*1\r\n$7\r\ndefault\r\n');
      c.close();
    } finally {
      await exposed.close();
    }
  });

  it('an application user reads, a writer user writes, and deleting a user closes its connections', async () => {
    const admin = await RawClient.connect(servers.engine.port);
    expect(await admin.call('ACL', 'SETUSER', 'app', 'on', '>app-pw', '+@read', '~customer:*')).toBe(
      '+OK\r\n',
    );
    expect(
      await admin.call('ACL', 'SETUSER', 'cdc', 'on', '>cdc-pw', '+@write', '+cache.version', '~customer:*'),
    ).toBe('+OK\r\n');
    const cdc = await RawClient.connect(servers.engine.port);
    expect(await cdc.call('AUTH', 'cdc', 'cdc-pw')).toBe('+OK\r\n');
    expect(await cdc.call('CACHE.REFRESH', 'customer:1', 'v1', '0', '01')).toBe('+applied\r\n');
    expect(await cdc.call('GET', 'customer:1')).toBe(
      "-NOPERM User cdc has no permissions to run the 'get' command\r\n",
    );
    const app = await RawClient.connect(servers.engine.port);
    expect(await app.call('AUTH', 'app', 'app-pw')).toBe('+OK\r\n');
    expect(await app.call('GET', 'customer:1')).toBe('$2\r\nv1\r\n');
    expect(await app.call('DEL', 'customer:1')).toBe(
      "-NOPERM User app has no permissions to run the 'del' command\r\n",
    );
    expect(await app.call('GET', 'orders:1')).toBe('-NOPERM No permissions to access a key\r\n');
    expect(await admin.call('ACL', 'DELUSER', 'app', 'cdc')).toBe(':2\r\n');
    expect(await app.waitClosed()).toBe(true);
    expect(await cdc.waitClosed()).toBe(true);
    const info = (await admin.call('INFO', 'stats')) ?? '';
    expect(info).toMatch(/acl_access_denied_cmd:[1-9]/);
    expect(info).toMatch(/acl_access_denied_key:[1-9]/);
    admin.close();
  });
});
