/**
 * `cmsgpack` in scripts against a real valkey-server 8: pack's bytes for every MessagePack type
 * lua-cmsgpack writes (ints of every width, float32/float64, strings of every header, arrays,
 * one-key maps, nesting past 16), unpack/unpack_one/unpack_limit round trips, and the errors, all
 * byte-identical (multi-key maps are compared decoded: their entry order is Lua's `next` order).
 */
import { describe, expect, it } from 'vitest';
import { withRawPair } from '../../support/parity-steps.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const pair = withRawPair(servers);

const hex = (expr: string) =>
  `local s = ${expr} local t = {} for i = 1, #s do t[#t + 1] = string.format('%02x', s:byte(i)) end return table.concat(t)`;

const SCRIPTS = [
  hex('cmsgpack.pack(nil, true, false)'),
  hex('cmsgpack.pack(0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296, 2^53)'),
  hex('cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649, -2^53)'),
  hex('cmsgpack.pack(1.5, -0.25, 0.1, 3.0, 1e300, -1e-300, 1/0, -1/0)'),
  hex(
    "cmsgpack.pack('', 'a', string.rep('x', 31), string.rep('y', 32), string.rep('z', 255), string.rep('w', 256))",
  ),
  hex("cmsgpack.pack(string.rep('v', 65536))"),
  hex("cmsgpack.pack({}, {1, 2, 3}, {'a', {'b', {}}}, {x = 1}, {[1] = 'a', [3] = 'c'})"),
  hex('(function() local t = {} for i = 1, 16 do t[i] = i end return cmsgpack.pack(t) end)()'),
  hex('(function() local t = {} for i = 1, 70000 do t[i] = 1 end return cmsgpack.pack(t) end)()'),
  hex(
    '(function() local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t) end)()',
  ),
  "return {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3, 4}, -5, 65536))}",
  "local t = cmsgpack.unpack(cmsgpack.pack({a = 1, b = 'x', c = {1, 2}})) return {t.a, t.b, t.c[2]}",
  'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}',
  'return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}',
  'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}',
  'return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 1)}',
  'return tostring(cmsgpack.unpack(cmsgpack.pack(1.5)))',
  "return cmsgpack.unpack('\\205\\1')",
  "return cmsgpack.unpack('\\193')",
  'return cmsgpack.pack()',
  "return cmsgpack.unpack_one('\\1', 5)",
  "return cmsgpack.unpack_limit('\\1', -1)",
  "return {cmsgpack.unpack('')}",
];

describe('cmsgpack in scripts, as Valkey 8', () => {
  it('packs, unpacks and fails byte for byte as Valkey', async () => {
    const mismatches = await pair.compare(SCRIPTS.map((script) => ['EVAL', script, '0']));
    expect(mismatches).toBe('');
    // The cases ran: no script of the list failed to compile (the scripts are pure: run again).
    let compileErrors = 0;
    for (const script of SCRIPTS)
      if (/Error compiling/.test((await pair.valkey.call('EVAL', script, '0')) ?? '')) compileErrors++;
    expect(compileErrors).toBe(0);
  });
});
