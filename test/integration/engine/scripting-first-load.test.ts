/**
 * The first script command loads the Lua VM asynchronously: commands pipelined behind it (and the
 * script's own effects) must still be answered in order, and other clients keep being served.
 * Its own file, so the VM is not yet loaded in this process when it runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { loadedLua } from '../../../engine/server/scripting/lua-runtime.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';

let engine: EngineServer;

beforeAll(async () => {
  engine = await startEngineServer({ port: 0 });
});
afterAll(async () => {
  await engine?.close();
});

describe('the first EVAL', () => {
  it('loads the VM while later pipelined commands wait, and replies stay in order', async () => {
    expect(loadedLua()).toBeNull();
    const c = await RawClient.connect(engine.port);
    const other = await RawClient.connect(engine.port);
    try {
      c.write(
        Buffer.concat([
          encodeCommand(['SET', 'first:a', '1']),
          encodeCommand(['EVAL', "return redis.call('incr', KEYS[1])", '1', 'first:a']),
          encodeCommand(['GET', 'first:a']),
          encodeCommand(['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0']),
          encodeCommand(['PING']),
        ]),
      );
      expect(await other.call('PING')).toBe('+PONG\r\n');
      expect([await c.read(), await c.read(), await c.read(), await c.read(), await c.read()]).toEqual([
        '+OK\r\n',
        ':2\r\n',
        '$1\r\n2\r\n',
        '-NOSCRIPT No matching script.\r\n',
        '+PONG\r\n',
      ]);
      expect(loadedLua()).not.toBeNull();
    } finally {
      c.close();
      other.close();
    }
  });
});
