/**
 * SETRANGE GETRANGE SUBSTR SETBIT GETBIT BITCOUNT BITPOS BITOP LCS against a real valkey-server:
 * replies and errors byte-identical, including Valkey's limits (SETRANGE past 512 MB, SETBIT at
 * 2^32) and wrong types.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { compareSteps } from '../../support/parity-steps.ts';
import { startValkey } from '../../support/resp-harness.ts';

let valkey: { port: number; stop: () => Promise<void> };
let engine: EngineServer;

beforeAll(async () => {
  valkey = await startValkey();
  engine = await startEngineServer({ port: 0 });
});
afterAll(async () => {
  await engine?.close();
  await valkey?.stop();
});

describe('string ranges and bits match Valkey 8 byte for byte', () => {
  it('SETRANGE GETRANGE SUBSTR', async () => {
    await compareSteps(valkey.port, engine.port, [
      'SETRANGE k 0 hello',
      'SETRANGE k 6 world',
      'GET k',
      'SETRANGE k 1 E',
      'GET k',
      'SETRANGE k 100 x',
      'STRLEN k',
      'SETRANGE k -1 x',
      'SETRANGE k x x',
      'SETRANGE k 536870912 x',
      'SETRANGE k 536870911 xx',
      'SETRANGE nokey 0 \u0000',
      'SETRANGE nokey2 5 ',
      'EXISTS nokey2',
      'SETRANGE k 0 ',
      'SET t v EX 100',
      'SETRANGE t 1 w',
      'TTL t',
      'GETRANGE k 0 4',
      'GETRANGE k -5 -1',
      'GETRANGE k -1 -5',
      'GETRANGE k 5 1',
      'GETRANGE k 0 10000',
      'GETRANGE k -10000 2',
      'GETRANGE nokey 0 1',
      'GETRANGE k x 1',
      'SUBSTR k 0 2',
      'HSET h f v',
      'SETRANGE h 0 x',
      'GETRANGE h 0 1',
      'SETRANGE k 0',
    ]);
  });

  it('SETBIT GETBIT BITCOUNT BITPOS BITOP', async () => {
    await compareSteps(valkey.port, engine.port, [
      'SETBIT b 7 1',
      'SETBIT b 7 0',
      'SETBIT b 7 1',
      'SETBIT b 100 1',
      'GETBIT b 7',
      'GETBIT b 6',
      'GETBIT b 100000',
      'SETBIT b 4294967296 1',
      'SETBIT b -1 1',
      'SETBIT b x 1',
      'SETBIT b 1 2',
      'SETBIT b 1 x',
      'GETBIT b 4294967296',
      'GETBIT nokey 1',
      'SET s foobar',
      'BITCOUNT s',
      'BITCOUNT s 0 0',
      'BITCOUNT s 1 1',
      'BITCOUNT s -2 -1',
      'BITCOUNT s 5 30 BIT',
      'BITCOUNT s 0 -1 BYTE',
      'BITCOUNT s 0 -1 FOO',
      'BITCOUNT s 0',
      'BITCOUNT s 1',
      'BITCOUNT s -1',
      'BITCOUNT s 0 1 BIT x',
      'BITCOUNT s x 1',
      'BITCOUNT nokey',
      'BITCOUNT nokey 0 1',
      'BITCOUNT s -1 -5',
      'SET p \u00ff\u00f0\u0000',
      'BITPOS p 0',
      'BITPOS p 1',
      'BITPOS p 1 2',
      'BITPOS p 0 1',
      'BITPOS p 0 0 0',
      'BITPOS p 1 7 15 BIT',
      'BITPOS p 0 0 -1 BIT',
      'BITPOS p 2',
      'BITPOS p x',
      'BITPOS p 1 0 1 FOO',
      'BITPOS nokey 1',
      'BITPOS nokey 0',
      'SET ones \u00ff\u00ff',
      'BITPOS ones 0',
      'BITPOS ones 0 0 -1',
      'SET a1 abc',
      'SET a2 \u0001\u0002',
      'BITOP AND dst a1 a2',
      'GET dst',
      'BITOP OR dst a1 a2 nokey',
      'GET dst',
      'BITOP XOR dst a1 a2',
      'GET dst',
      'BITOP NOT dst a1',
      'GET dst',
      'BITOP NOT dst a1 a2',
      'BITOP NAND dst a1',
      'BITOP AND dst nokey nokey2',
      'EXISTS dst',
      'BITOP AND dst h a1',
      'HSET h f v',
      'BITOP AND dst h a1',
      'SETBIT h 1 1',
      'GETBIT h 1',
      'BITCOUNT h',
    ]);
  });

  it('BITFIELD and BITFIELD_RO', async () => {
    await compareSteps(valkey.port, engine.port, [
      'BITFIELD bf SET i8 0 100 GET i8 0',
      'BITFIELD bf INCRBY i8 0 100',
      'BITFIELD bf OVERFLOW SAT INCRBY i8 0 100',
      'BITFIELD bf OVERFLOW FAIL INCRBY i8 0 100',
      'BITFIELD bf OVERFLOW WRAP INCRBY u4 #1 20',
      'BITFIELD bf GET u4 #1 GET i64 0 GET u63 3',
      'BITFIELD bf SET u8 100 255 GET u8 100',
      'STRLEN bf',
      'BITFIELD bf SET i64 0 -9223372036854775808 INCRBY i64 0 -1',
      'BITFIELD bf OVERFLOW SAT SET u2 0 7 GET u2 0',
      'BITFIELD bf OVERFLOW FAIL SET i3 0 9 GET i3 0',
      'BITFIELD bf GET u64 0',
      'BITFIELD bf GET i65 0',
      'BITFIELD bf GET x8 0',
      'BITFIELD bf GET i8 -1',
      'BITFIELD bf GET i8 4294967290',
      'BITFIELD bf GET i8 #x',
      'BITFIELD bf SET i8 0 x',
      'BITFIELD bf OVERFLOW NOPE',
      'BITFIELD bf GET i8',
      'BITFIELD bf FOO',
      'BITFIELD bf',
      'BITFIELD nokey GET u8 0',
      'EXISTS nokey',
      'BITFIELD nokey2 OVERFLOW FAIL INCRBY u2 0 9',
      'GET nokey2',
      'BITFIELD_RO bf GET i8 0 GET u4 #1',
      'BITFIELD_RO bf SET i8 0 1',
      'BITFIELD_RO bf OVERFLOW SAT',
      'HSET h f v',
      'BITFIELD h GET i8 0',
      'BITFIELD_RO h GET i8 0',
    ]);
  });

  it('LCS', async () => {
    await compareSteps(valkey.port, engine.port, [
      'MSET key1 ohmytext key2 mynewtext',
      'LCS key1 key2',
      'LCS key1 key2 LEN',
      'LCS key1 key2 IDX',
      'LCS key1 key2 IDX MINMATCHLEN 4',
      'LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN',
      'LCS key1 key2 IDX WITHMATCHLEN',
      'LCS key1 key2 LEN IDX',
      'LCS key1 key2 FOO',
      'LCS key1 key2 MINMATCHLEN x',
      'LCS key1 nokey',
      'LCS nokey nokey IDX',
      'HSET h f v',
      'LCS key1 h',
      'LCS key1',
      '!resp3',
      'LCS key1 key2 IDX WITHMATCHLEN',
    ]);
  });
});
