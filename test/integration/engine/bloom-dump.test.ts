/**
 * DUMP/RESTORE of bloom filters (dump/bloom-payload.ts): a scaling filter moves from one engine
 * server to another with every bit, count and rate (BF.INFO identical, every added item present,
 * the same answers and false-positive rate for 20,000 non-members); a real valkey-server 8 (no
 * bloom module) refuses the payload with `ERR Bad data format` and stores nothing; a payload whose
 * shape does not match its rate and capacity is bad data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { crc64 } from '../../../engine/server/dump/crc64.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
let second: EngineServer;
beforeAll(async () => {
  second = await startEngineServer({ port: 0 });
});
afterAll(async () => {
  await second?.close();
});

/** Sends many commands in one write and reads every reply. */
async function pipeline(c: RawClient, commands: string[][]): Promise<(string | null)[]> {
  c.write(Buffer.concat(commands.map((args) => encodeCommand(args))));
  const out: (string | null)[] = [];
  for (let i = 0; i < commands.length; i++) out.push(await c.read());
  return out;
}

function bulkPayload(reply: string | null): Buffer {
  if (reply === null || !reply.startsWith('$')) throw new Error(`DUMP replied ${JSON.stringify(reply)}`);
  return Buffer.from(reply.slice(reply.indexOf('\r\n') + 2, -2), 'latin1');
}

/** `payload` with its CRC-64 recomputed (to reach the content checks past the checksum). */
function resealed(payload: Buffer): Buffer {
  const body = payload.subarray(0, payload.length - 8);
  return Buffer.concat([body, crc64(body)]);
}

describe('DUMP/RESTORE of bloom filters', () => {
  it('a scaling filter moves between engines intact, keeping its false-positive rate', async () => {
    const a = await RawClient.connect(servers.engine.port);
    const b = await RawClient.connect(second.port);
    try {
      await a.call('DEL', 'bf:src');
      await b.call('DEL', 'bf:copy');
      expect(await a.call('BF.RESERVE', 'bf:src', '0.01', '1000', 'EXPANSION', '2')).toBe('+OK\r\n');
      const added = Array.from({ length: 5000 }, (_, i) => `ip:10.${i >> 8}.${i & 255}.1`);
      for (let i = 0; i < added.length; i += 500)
        await pipeline(a, [['BF.MADD', 'bf:src', ...added.slice(i, i + 500)]]);
      const payload = bulkPayload(await a.call('DUMP', 'bf:src'));
      expect(await b.call('RESTORE', 'bf:copy', '0', payload)).toBe('+OK\r\n');
      expect(await b.call('TYPE', 'bf:copy')).toBe(await a.call('TYPE', 'bf:src'));
      const info = await a.call('BF.INFO', 'bf:src');
      expect(info).toContain('Number of filters');
      expect(await b.call('BF.INFO', 'bf:copy')).toBe(info);
      const card = await a.call('BF.CARD', 'bf:src');
      expect(card).toMatch(/^:49\d\d\r\n$/); // an add that finds the item (probably) present is not counted
      expect(await b.call('BF.CARD', 'bf:copy')).toBe(card);
      // No false negatives.
      const present = await pipeline(b, [['BF.MEXISTS', 'bf:copy', ...added]]);
      expect(present[0]).toBe(`*5000\r\n${':1\r\n'.repeat(5000)}`);
      // The same bits: the same answer for every non-member, and the configured rate held.
      const probes = Array.from({ length: 20_000 }, (_, i) => `probe:${i}`);
      const [before] = await pipeline(a, [['BF.MEXISTS', 'bf:src', ...probes]]);
      const [after] = await pipeline(b, [['BF.MEXISTS', 'bf:copy', ...probes]]);
      expect(after).toBe(before);
      const falsePositives = (after!.match(/:1\r\n/g) ?? []).length;
      expect(falsePositives / probes.length).toBeLessThanOrEqual(0.01 * 1.3);
      // The restored filter keeps growing as the original would.
      expect(await b.call('BF.ADD', 'bf:copy', 'new-item')).toBe(':1\r\n');
      expect(await b.call('BF.EXISTS', 'bf:copy', 'new-item')).toBe(':1\r\n');
      // A non-scaling filter keeps refusing past its capacity.
      await a.call('BF.RESERVE', 'bf:fixed', '0.001', '10', 'NONSCALING');
      await pipeline(a, [['BF.MADD', 'bf:fixed', ...Array.from({ length: 10 }, (_, i) => `x${i}`)]]);
      expect(await b.call('RESTORE', 'bf:fixed2', '0', bulkPayload(await a.call('DUMP', 'bf:fixed')))).toBe(
        '+OK\r\n',
      );
      expect(await b.call('BF.ADD', 'bf:fixed2', 'one-more')).toBe('-ERR non scaling filter is full\r\n');
      expect(await b.call('BF.INFO', 'bf:fixed2')).toBe(await a.call('BF.INFO', 'bf:fixed'));
    } finally {
      a.close();
      b.close();
    }
  });

  it('Valkey without a bloom module refuses the payload; a reshaped or cut payload is bad data', async () => {
    const a = await RawClient.connect(servers.engine.port);
    const v = await RawClient.connect(servers.valkey.port);
    try {
      await a.call('DEL', 'bf:x');
      await a.call('BF.ADD', 'bf:x', 'item');
      const payload = bulkPayload(await a.call('DUMP', 'bf:x'));
      expect(await v.call('RESTORE', 'bf:x', '0', payload)).toBe('-ERR Bad data format\r\n');
      expect(await v.call('EXISTS', 'bf:x')).toBe(':0\r\n');
      // The first sub-filter's capacity (100, the default) changed to 101: m no longer matches.
      const at = payload.indexOf(Buffer.from([2, 0x40, 100, 4]));
      expect(at).toBeGreaterThan(0);
      const reshaped = Buffer.from(payload);
      reshaped[at + 2] = 101;
      expect(await a.call('RESTORE', 'bf:y', '0', resealed(reshaped))).toBe('-ERR Bad data format\r\n');
      const cut = Buffer.concat([
        payload.subarray(0, payload.length - 12),
        payload.subarray(payload.length - 10),
      ]);
      expect(await a.call('RESTORE', 'bf:y', '0', resealed(cut))).toBe('-ERR Bad data format\r\n');
      const flipped = Buffer.from(payload);
      flipped[20] = flipped[20]! ^ 1;
      expect(await a.call('RESTORE', 'bf:y', '0', flipped)).toBe(
        '-ERR DUMP payload version or checksum are wrong\r\n',
      );
      expect(await a.call('EXISTS', 'bf:y')).toBe(':0\r\n');
      // Valkey's own module-type error for the same bytes on the engine: a foreign module id.
      const foreign = Buffer.from(payload);
      foreign[2] = foreign[2]! ^ 0x10;
      expect(await a.call('RESTORE', 'bf:y', '0', resealed(foreign))).toBe('-ERR Bad data format\r\n');
    } finally {
      a.close();
      v.close();
    }
  });
});
