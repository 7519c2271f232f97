/**
 * FUNCTION DUMP/RESTORE against a real valkey-server 8: the same sequence of restores (APPEND,
 * REPLACE, FLUSH, collisions of library and function names, bad policies, corrupt and foreign
 * payloads) gives byte-identical replies on both, a failed restore leaves the libraries as they
 * were, and payloads move both ways between the engine and Valkey.
 */
import { describe, expect, it } from 'vitest';
import { crc64 } from '../../../engine/server/dump/crc64.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

const LIB1 = "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return 1 end)";
const LIB2 = "#!lua name=lib2\nredis.register_function('f2', function(keys, args) return 2 end)";
const LIB3 = "#!lua name=lib3\nredis.register_function('f1', function(keys, args) return 3 end)";
const BROKEN = '#!lua name=lib1\nlocal x = 1'; // compiles, registers nothing

function bulkPayload(reply: string | null): Buffer {
  if (reply === null || !reply.startsWith('$'))
    throw new Error(`FUNCTION DUMP replied ${JSON.stringify(reply)}`);
  return Buffer.from(reply.slice(reply.indexOf('\r\n') + 2, -2), 'latin1');
}

/** A payload of `body` with Valkey's footer (RDB version 11, CRC-64). */
function sealed(body: Buffer): Buffer {
  const withVersion = Buffer.concat([body, Buffer.from([11, 0])]);
  return Buffer.concat([withVersion, crc64(withVersion)]);
}

/** Runs the same restore sequence on one server; returns every reply. */
async function sequence(port: number): Promise<(string | null)[]> {
  const c = await RawClient.connect(port);
  const out: (string | null)[] = [];
  const call = async (...args: (string | Buffer)[]) => {
    const r = await c.call(...args);
    out.push(r);
    return r;
  };
  try {
    await call('FUNCTION', 'FLUSH');
    await call('FUNCTION', 'LOAD', LIB1);
    await call('FUNCTION', 'LOAD', LIB2);
    const p = bulkPayload(await c.call('FUNCTION', 'DUMP'));
    // One colliding name only: which of several Valkey names first follows its hash table's order.
    await call('FUNCTION', 'DELETE', 'lib2');
    await call('FUNCTION', 'RESTORE', p);
    await call('FUNCTION', 'RESTORE', p, 'append');
    await call('FUNCTION', 'RESTORE', p, 'REPLACE');
    await call('FCALL', 'f1', '0');
    await call('FUNCTION', 'FLUSH');
    await call('FUNCTION', 'RESTORE', p);
    await call('FCALL', 'f2', '0');
    await call('FUNCTION', 'RESTORE', p, 'FLUSH');
    await call('FUNCTION', 'DELETE', 'lib1');
    await call('FUNCTION', 'LOAD', LIB3);
    await call('FUNCTION', 'RESTORE', p, 'REPLACE'); // lib1's f1 collides with lib3's
    await call('FCALL', 'f1', '0');
    await call('FCALL', 'f2', '0');
    await call('FUNCTION', 'RESTORE', p, 'NOPE');
    await call('FUNCTION', 'RESTORE', p, 'FLUSH', 'x');
    await call('FUNCTION', 'RESTORE');
    await call('FUNCTION', 'RESTORE', 'garbage');
    await call('FUNCTION', 'DUMP', 'x');
    // Not a function record; a string cut short; a library that does not compile (FLUSH rolls back).
    await call('FUNCTION', 'RESTORE', sealed(Buffer.from([0, 1, 65])));
    await call('FUNCTION', 'RESTORE', sealed(Buffer.from([245, 50, 65])), 'FLUSH');
    const broken = Buffer.from(BROKEN);
    await call(
      'FUNCTION',
      'RESTORE',
      sealed(Buffer.concat([Buffer.from([245, broken.length]), broken])),
      'FLUSH',
    );
    await call('FCALL', 'f1', '0');
    await call('FUNCTION', 'STATS');
    await call('FUNCTION', 'RESTORE', sealed(Buffer.alloc(0)), 'FLUSH');
    await call('FUNCTION', 'STATS');
    await call('FUNCTION', 'FLUSH');
    return out;
  } finally {
    c.close();
  }
}

describe('FUNCTION DUMP/RESTORE as Valkey 8', () => {
  it('the same restores give byte-identical replies', async () => {
    const want = await sequence(servers.valkey.port);
    const got = await sequence(servers.engine.port);
    expect(got).toEqual(want);
    expect(got).toContain(':3\r\n'); // the failed REPLACE left lib3 in place
  });

  it('payloads move both ways between the engine and Valkey', async () => {
    const v = await RawClient.connect(servers.valkey.port);
    const e = await RawClient.connect(servers.engine.port);
    try {
      for (const [from, to] of [
        [v, e],
        [e, v],
      ] as const) {
        await from.call('FUNCTION', 'FLUSH');
        await from.call('FUNCTION', 'LOAD', LIB1);
        await from.call('FUNCTION', 'LOAD', LIB2);
        const payload = bulkPayload(await from.call('FUNCTION', 'DUMP'));
        expect(await to.call('FUNCTION', 'RESTORE', payload, 'FLUSH')).toBe('+OK\r\n');
        expect(await to.call('FCALL', 'f1', '0')).toBe(':1\r\n');
        expect(await to.call('FCALL', 'f2', '0')).toBe(':2\r\n');
        expect(await to.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'lib1', 'WITHCODE')).toBe(
          await from.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'lib1', 'WITHCODE'),
        );
      }
    } finally {
      await v.call('FUNCTION', 'FLUSH');
      await e.call('FUNCTION', 'FLUSH');
      v.close();
      e.close();
    }
  });
});
