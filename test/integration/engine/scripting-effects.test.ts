/**
 * A script's writes have the effects of the same commands sent directly: WATCH fails, keyspace
 * notifications and client-tracking invalidations are sent (byte-identical to valkey-server); blocking
 * commands answer at once; scripts are atomic. Engine only: CACHE.* from scripts, a write-through
 * hook refused, iovalkey's defineCommand/EVALSHA path.
 */
import { Valkey } from 'iovalkey';
import { describe, expect, it } from 'vitest';
import { Engine, startEngineServer } from '../../../engine/index.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

/** Runs `scenario` against both servers and returns the transcripts. */
async function both(scenario: (port: number) => Promise<(string | null)[]>): Promise<void> {
  const want = await scenario(servers.valkey.port);
  const got = await scenario(servers.engine.port);
  expect(got).toEqual(want);
}

describe('script writes act like direct commands (same bytes as Valkey)', () => {
  it('WATCH sees a key written by another client’s script; EXEC fails', async () => {
    await both(async (port) => {
      const a = await RawClient.connect(port);
      const b = await RawClient.connect(port);
      const out = [
        await a.call('FLUSHALL'),
        await a.call('SET', 'w:k', '1'),
        await a.call('WATCH', 'w:k'),
        await b.call('EVAL', "return redis.call('incr', KEYS[1])", '1', 'w:k'),
        await a.call('MULTI'),
        await a.call('SET', 'w:k', 'mine'),
        await a.call('EXEC'),
        await a.call('GET', 'w:k'),
        // A script that only reads does not break the watch.
        await a.call('WATCH', 'w:k'),
        await b.call('EVAL', "return redis.call('get', KEYS[1])", '1', 'w:k'),
        await a.call('MULTI'),
        await a.call('SET', 'w:k', 'mine'),
        await a.call('EXEC'),
      ];
      a.close();
      b.close();
      return out;
    });
  });

  it('keyspace notifications for a script’s writes', async () => {
    await both(async (port) => {
      const a = await RawClient.connect(port);
      const sub = await RawClient.connect(port);
      const out = [
        await a.call('FLUSHALL'),
        await a.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA'),
        await sub.call('PSUBSCRIBE', '__key*@0__:n:*'),
        await a.call(
          'EVAL',
          "redis.call('set', KEYS[1], 'v') redis.call('expire', KEYS[1], 100) redis.call('zadd', KEYS[2], 1, 'm') return redis.call('del', KEYS[1])",
          '2',
          'n:s',
          'n:z',
        ),
      ];
      for (let i = 0; i < 4; i++) out.push(await sub.read());
      out.push(await a.call('CONFIG', 'SET', 'notify-keyspace-events', ''));
      a.close();
      sub.close();
      return out;
    });
  });

  it('client tracking invalidates keys a script writes, and tracks keys a script reads', async () => {
    await both(async (port) => {
      const reader = await RawClient.connect(port);
      const writer = await RawClient.connect(port);
      await reader.call('HELLO', '3');
      const out = [
        await writer.call('FLUSHALL'),
        await writer.call('SET', 't:a', '1'),
        await writer.call('SET', 't:b', '1'),
        await reader.call('CLIENT', 'TRACKING', 'on'),
        await reader.call('GET', 't:a'),
        // Keys read inside the reader's own script are tracked for the reader.
        await reader.call('EVAL', "return redis.call('get', KEYS[1])", '1', 't:b'),
        await writer.call(
          'EVAL',
          "redis.call('set', KEYS[1], '2') return redis.call('set', KEYS[2], '2')",
          '2',
          't:a',
          't:b',
        ),
        await reader.read(),
        await reader.read(),
        await reader.call('PING'),
      ];
      reader.close();
      writer.close();
      return out;
    });
  });

  it('ACL: scripts are not in @read; each command a script calls is checked for the caller', async () => {
    await both(async (port) => {
      const admin = await RawClient.connect(port);
      const u = await RawClient.connect(port);
      const out = [
        await admin.call('ACL', 'SETUSER', 'sreader', 'on', '>pw', '+@read', '~*'),
        await admin.call('ACL', 'SETUSER', 'sapp', 'on', '>pw', '+eval', '+get', '~app:*'),
        await u.call('AUTH', 'sreader', 'pw'),
        await u.call('EVAL_RO', "return redis.call('get', 'x')", '0'),
        await u.call('AUTH', 'sapp', 'pw'),
        await u.call('EVAL', "return redis.call('get', KEYS[1])", '1', 'app:1'),
        await u.call('EVAL', "return redis.call('get', KEYS[1])", '1', 'other:1'),
        await u.call('EVAL', "return redis.call('set', KEYS[1], 'v')", '1', 'app:1'),
        await u.call('EVAL', "return redis.pcall('set', KEYS[1], 'v')", '1', 'app:1'),
        await u.call('EVAL', "return redis.acl_check_cmd('set', 'app:1')", '0'),
        await u.call('EVAL', "return redis.acl_check_cmd('get', 'app:1')", '0'),
        await admin.call('ACL', 'DELUSER', 'sreader', 'sapp'),
      ];
      admin.close();
      u.close();
      return out;
    });
  });

  it('blocking commands answer at once; a script is atomic against other clients', async () => {
    await both(async (port) => {
      const a = await RawClient.connect(port);
      const b = await RawClient.connect(port);
      await a.call('FLUSHALL');
      // b's INCR is sent while a's script runs; it must see all of the script's increments or none.
      a.write(
        encodeCommand([
          'EVAL',
          "for i = 1, 20000 do redis.call('incr', 'at:n') end return redis.call('blpop', 'at:l', 5)",
          '0',
        ]),
      );
      const seen = await b.call('GET', 'at:n');
      const out = [await a.read(), seen === '$-1\r\n' || seen === '$5\r\n20000\r\n' ? 'atomic' : seen];
      a.close();
      b.close();
      return out;
    });
  });
});

describe('engine only', () => {
  it('scripts call CACHE.* commands; a write to a key under a write-through hook is refused', async () => {
    const eng = new Engine();
    const hooked: string[] = [];
    eng.addWriteThroughHook({ prefix: 'db:', persist: (c) => void hooked.push(c.key) });
    const server = await startEngineServer({ port: 0, engine: eng });
    const c = await RawClient.connect(server.port);
    try {
      expect(
        await c.call('EVAL', "return redis.call('cache.refresh', KEYS[1], 'v', '0', '0005')", '1', 'c:1'),
      ).toMatch(/^\+/);
      expect(await c.call('EVAL', "return redis.call('cache.version', KEYS[1])", '1', 'c:1')).toBe(
        '$4\r\n0005\r\n',
      );
      expect(await c.call('EVAL', "return redis.call('cache.wait', KEYS[1], '10')", '1', 'c:1')).toMatch(
        /^-ERR This Redis command is not allowed from script/,
      );
      expect(await c.call('EVAL', "return redis.call('set', KEYS[1], 'v')", '1', 'db:1')).toMatch(
        /^-ERR set on a key with a write-through hook cannot run from a script \(the hook is asynchronous\) script: [0-9a-f]{40}, on @user_script:1\.\r\n$/,
      );
      expect(hooked).toEqual([]);
      expect(await c.call('EVAL', "return redis.call('set', KEYS[1], 'v')", '1', 'plain:1')).toBe('+OK\r\n');
    } finally {
      c.close();
      await server.close();
      eng.close();
    }
  });

  it('hostile scripts: metamethods on returned or raised tables, deep nesting, runaway recursion', async () => {
    const c = await RawClient.connect(servers.engine.port);
    try {
      const trap = "setmetatable({}, {__index = function() error('trap') end})";
      expect(await c.call('EVAL', `return ${trap}`, '0')).toBe('*0\r\n');
      expect(await c.call('EVAL', `error(${trap})`, '0')).toMatch(
        /^-ERR Script raised an error object without an err field script: [0-9a-f]{40}, on @user_script:1\.\r\n$/,
      );
      expect(await c.call('EVAL', 'local t = {} for i = 1, 2000 do t = {t} end return t', '0')).toMatch(
        /ERR reached lua stack limit/,
      );
      expect(await c.call('EVAL', 'local function f() return 1 + f() end return f()', '0')).toMatch(
        /^-ERR user_script:1: stack overflow/,
      );
      expect(await c.call('PING')).toBe('+PONG\r\n');
    } finally {
      c.close();
    }
  });

  it("iovalkey's defineCommand (EVALSHA, NOSCRIPT, then EVAL) works after SCRIPT FLUSH", async () => {
    const client = new Valkey({ port: servers.engine.port, host: '127.0.0.1', lazyConnect: true });
    await client.connect();
    try {
      client.defineCommand('bump', {
        numberOfKeys: 1,
        lua: "return redis.call('incrby', KEYS[1], ARGV[1])",
      });
      const bump = (client as unknown as { bump(k: string, n: number): Promise<number> }).bump.bind(client);
      expect(await bump('io:n', 2)).toBe(2);
      await client.script('FLUSH');
      expect(await bump('io:n', 3)).toBe(5);
      expect(await client.eval("return {1, 'two', {ok='x'}}", 0)).toEqual([1, 'two', 'x']);
    } finally {
      client.disconnect();
    }
  });
});
