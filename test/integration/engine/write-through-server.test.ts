/**
 * Write-through hooks over the protocol: a SET/DEL on a hooked key from any Valkey client persists
 * through the hook first; a failure is an error reply and the cache keeps its old value; replies of
 * a pipeline stay in order while a hook is pending.
 */
import { Valkey } from 'iovalkey';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, type HookChange, startEngineServer } from '../../../engine/index.ts';

let server: EngineServer;
const persisted: HookChange[] = [];
let failNext = false;

beforeAll(async () => {
  server = await startEngineServer({ port: 0 });
  server.engine.addWriteThroughHook({
    prefix: 'db:',
    persist: async (change) => {
      await new Promise((r) => setTimeout(r, 5));
      if (failNext) {
        failNext = false;
        throw new Error('constraint violated');
      }
      persisted.push(change);
    },
  });
});
afterAll(async () => {
  await server?.close();
});

describe('write-through over RESP', () => {
  it('SET and DEL persist first; a failure is an error reply and the old value stays', async () => {
    const c = new Valkey({ port: server.port });
    try {
      expect(await c.set('db:1', 'v1', 'EX', 100)).toBe('OK');
      expect(persisted.at(-1)).toEqual({ op: 'set', key: 'db:1', value: Buffer.from('v1'), ttlMs: 100_000 });
      failNext = true;
      await expect(c.set('db:1', 'v2')).rejects.toThrow('ERR write-through hook failed: constraint violated');
      expect(await c.get('db:1')).toBe('v1');
      expect(await c.del('db:1', 'plain')).toBe(1);
      expect(persisted.at(-1)).toEqual({ op: 'delete', key: 'db:1' });
      await expect(c.append('db:2', 'x')).rejects.toThrow(
        "ERR 'append' is not supported on keys under a write-through hook",
      );
    } finally {
      c.disconnect();
    }
  });

  it('pipelined replies stay in order across a pending hook', async () => {
    const c = new Valkey({ port: server.port });
    try {
      const res = await c.pipeline().set('db:p', 'a').get('db:p').set('plain', 'b').get('plain').exec();
      expect(res?.map(([e, v]) => e ?? v)).toEqual(['OK', 'a', 'OK', 'b']);
    } finally {
      c.disconnect();
    }
  });
});
