/**
 * `struct` in scripts against a real valkey-server 8: pack's bytes for every format option in both
 * byte orders and with alignment, unpack's values and next position (signed, unsigned, floats,
 * fixed, `c0` and zero-terminated strings), size, wrap-around of out-of-range integers, and the
 * errors, all byte-identical.
 */
import { describe, expect, it } from 'vitest';
import { withRawPair } from '../../support/parity-steps.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const pair = withRawPair(servers);

const hex = (expr: string) =>
  `local s = ${expr} local t = {} for i = 1, #s do t[#t + 1] = string.format('%02x', s:byte(i)) end return table.concat(t)`;

const SCRIPTS = [
  hex("struct.pack('bBhHlLTiI', -1, 255, -2, 65535, -3, 7, 8, -4, 9)"),
  hex("struct.pack('>bBhHlLTiI', -1, 255, -2, 65535, -3, 7, 8, -4, 9)"),
  hex("struct.pack('<i1i2i3i5i8I16', 1, -2, 3, -4, 5, 6)"),
  hex("struct.pack('>I3', 16777216 + 5)"),
  hex("struct.pack('b', 300)"),
  hex("struct.pack('i', 3.9)"),
  hex("struct.pack('i', -3.9)"),
  hex("struct.pack('i', '42')"),
  hex("struct.pack('fd', 1.5, -0.1)"),
  hex("struct.pack('>fd', 1.5, -0.1)"),
  hex("struct.pack('c3c0s', 'abcdef', 'xy', 'zz')"),
  hex("struct.pack('!4 b i b d', 1, 2, 3, 4.5)"),
  hex("struct.pack('!2 bhbi', 1, 2, 3, 4)"),
  hex("struct.pack('xbx', 7)"),
  "return {struct.unpack('bBhHi', struct.pack('bBhHi', -1, 255, -2, 65535, -4))}",
  "return {struct.unpack('>I3i3', struct.pack('>I3i3', 1000000, -1000000))}",
  "return {struct.unpack('c2c0s', 'ab' .. struct.pack('b', 3) .. 'xyzhello' .. string.char(0) .. 'rest')}",
  "return {struct.unpack('c2bc0s', 'ab' .. struct.pack('b', 3) .. 'xyzhello' .. string.char(0) .. 'rest')}",
  "return {struct.unpack('i', struct.pack('ii', 1, 2), 5)}",
  "return {tostring(struct.unpack('f', struct.pack('f', 1.5))), tostring(struct.unpack('d', struct.pack('d', 0.25)))}",
  "return {struct.unpack('!4 b i', struct.pack('!4 b i', 1, 2))}",
  "return {struct.unpack('L', struct.pack('l', -1))}",
  "return struct.size('bhilTfdc5xi3')",
  "return struct.size('!8 b d')",
  "return struct.size('s')",
  "return struct.size('c0')",
  "return struct.pack('q', 1)",
  "return struct.pack('i40', 1)",
  "return struct.pack('!3 i', 1)",
  "return struct.pack('i')",
  "return struct.pack('i', 'x')",
  "return struct.pack('c5', 'abc')",
  "return struct.unpack('i', 'ab')",
  "return struct.unpack('i', 'abcd', 0)",
  "return struct.unpack('c0', 'abc')",
  "return struct.unpack('s', 'abc')",
  "return struct.unpack('i')",
  'return struct.size()',
  "return struct.pack('c', 5)",
];

describe('struct in scripts, as Valkey 8', () => {
  it('packs, unpacks, sizes and fails byte for byte as Valkey', async () => {
    const mismatches = await pair.compare(SCRIPTS.map((script) => ['EVAL', script, '0']));
    expect(mismatches).toBe('');
    // The cases ran: no script of the list failed to compile (the scripts are pure: run again).
    let compileErrors = 0;
    for (const script of SCRIPTS)
      if (/Error compiling/.test((await pair.valkey.call('EVAL', script, '0')) ?? '')) compileErrors++;
    expect(compileErrors).toBe(0);
  });
});
