/**
 * Fuzz: random bytes and mutated valid frames thrown at the engine server over many connections.
 * Whatever happens to each fuzzing connection (error reply, close, silence), the server must stay up
 * and keep serving a well-behaved client. The seed is fixed so a failure reproduces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { mutate, rng, VALID } from '../../support/fuzz-frames.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';

let server: EngineServer;
beforeAll(async () => {
  server = await startEngineServer({ port: 0, protoMaxBulkLen: 1024 * 1024 });
});
afterAll(async () => {
  await server?.close();
});

describe('fuzzing the protocol server', () => {
  it('survives random and mutated frames and still serves', async () => {
    const r = rng(0xc0ffee);
    for (let round = 0; round < 300; round++) {
      const c = await RawClient.connect(server.port);
      const frames: Buffer[] = [];
      for (let i = 0; i < 1 + r() * 6; i++) {
        const frame = encodeCommand(VALID[Math.floor(r() * VALID.length)]!);
        frames.push(r() < 0.5 ? frame : mutate(frame, r));
      }
      const bytes = Buffer.concat(frames);
      // Split the bytes at random points to exercise resumable parsing.
      let at = 0;
      while (at < bytes.length) {
        const n = 1 + Math.floor(r() * 64);
        c.write(bytes.subarray(at, at + n));
        at += n;
      }
      await new Promise((res) => setTimeout(res, 2));
      c.close();
    }
    const good = await RawClient.connect(server.port);
    expect(await good.call('PING')).toBe('+PONG\r\n');
    expect(await good.call('SET', 'after', 'fuzz')).toBe('+OK\r\n');
    expect(await good.call('GET', 'after')).toBe('$4\r\nfuzz\r\n');
    good.close();
  });
});
