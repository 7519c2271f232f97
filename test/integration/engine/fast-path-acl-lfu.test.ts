/**
 * What the GET/SET fast path must keep from the full dispatch, against a real valkey-server: ACL
 * users narrowed by key pattern or by command get the same NOPERM replies for requests shaped
 * exactly like the fast path's, and a fast-path GET counts as an access for LFU (OBJECT FREQ).
 */
import { describe, expect, it } from 'vitest';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const P = `fastacl:${process.pid}:`;

async function both<T>(run: (c: RawClient, port: number) => Promise<T>): Promise<{ valkey: T; engine: T }> {
  const a = await RawClient.connect(servers.valkey.port);
  const b = await RawClient.connect(servers.engine.port);
  try {
    return { valkey: await run(a, servers.valkey.port), engine: await run(b, servers.engine.port) };
  } finally {
    a.close();
    b.close();
  }
}

/** Sends the commands as one write (so they are fast-path shaped and pipelined) and reads the replies. */
async function pipelined(c: RawClient, cmds: string[][]): Promise<string[]> {
  c.write(Buffer.concat(cmds.map((cmd) => encodeCommand(cmd))));
  const out: string[] = [];
  for (let i = 0; i < cmds.length; i++) out.push((await c.read()) ?? '(closed)');
  return out;
}

describe('GET/SET fast path and restricted users', () => {
  it('a key pattern or a removed command refuses GET and SET exactly as Valkey does', async () => {
    const got = await both(async (c, port) => {
      const out: (string | null)[] = [];
      out.push(await c.call('SET', `${P}no:1`, 'secret'));
      out.push(await c.call('ACL', 'SETUSER', `${P}keys`, 'on', '>pw', `~${P}ok:*`, '+@all'));
      out.push(await c.call('ACL', 'SETUSER', `${P}noset`, 'on', '>pw', '~*', '+@all', '-set'));
      const keys = await RawClient.connect(port);
      const noset = await RawClient.connect(port);
      try {
        out.push(await keys.call('AUTH', `${P}keys`, 'pw'));
        out.push(
          ...(await pipelined(keys, [
            ['SET', `${P}ok:1`, 'a'],
            ['GET', `${P}ok:1`],
            ['SET', `${P}no:1`, 'b'],
            ['GET', `${P}no:1`],
          ])),
        );
        out.push(await noset.call('AUTH', `${P}noset`, 'pw'));
        out.push(
          ...(await pipelined(noset, [
            ['SET', `${P}no:1`, 'c'],
            ['GET', `${P}no:1`],
          ])),
        );
        // Narrowing the default user at run time applies to its open connections at once.
        out.push(await c.call('ACL', 'SETUSER', 'default', '-get'));
        out.push(...(await pipelined(c, [['GET', `${P}ok:1`]])));
        out.push(await c.call('ACL', 'SETUSER', 'default', '+get'));
        out.push(...(await pipelined(c, [['GET', `${P}ok:1`]])));
      } finally {
        keys.close();
        noset.close();
      }
      return out;
    });
    expect(got.engine).toEqual(got.valkey);
    expect(got.engine.filter((r) => r?.startsWith('-NOPERM'))).toHaveLength(4);
  });
});

describe('GET/SET fast path and access tracking', () => {
  it('fast-path GETs raise OBJECT FREQ under an LFU policy', async () => {
    // Compared as "raised" only: a new key starts at 5 in Valkey and 6 here, and the counter grows
    // at random.
    const got = await both(async (c) => {
      const policy = /\r\n([^\r]*)\r\n$/.exec((await c.call('CONFIG', 'GET', 'maxmemory-policy'))!)![1]!;
      try {
        expect(await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu')).toBe('+OK\r\n');
        await c.call('SET', `${P}lfu`, 'v');
        const before = await c.call('OBJECT', 'FREQ', `${P}lfu`);
        // lfu-log-factor 10: from 5 or 6, each access raises the counter with p >= 1/11, so 200
        // GETs leave it unchanged with p < 1e-8.
        const gets = await pipelined(
          c,
          Array.from({ length: 200 }, () => ['GET', `${P}lfu`]),
        );
        const after = await c.call('OBJECT', 'FREQ', `${P}lfu`);
        const freq = (r: string | null): number => Number(/^:(\d+)\r\n$/.exec(r ?? '')![1]);
        return { gets: [...new Set(gets)], raised: freq(after) > freq(before) };
      } finally {
        await c.call('CONFIG', 'SET', 'maxmemory-policy', policy);
      }
    });
    expect(got.engine).toEqual(got.valkey);
    expect(got.engine).toEqual({ gets: ['$1\r\nv\r\n'], raised: true });
  });
});
