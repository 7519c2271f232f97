/**
 * EVAL/EVALSHA/EVAL_RO/EVALSHA_RO/SCRIPT on the engine (Lua through wasmoon) against a real
 * valkey-server: every reply byte-identical, including the errors of bad scripts and bad input;
 * the project's own Valkey scripts and a sliding-window rate limiter give the same replies and
 * leave the same data.
 */
import { describe, expect, it } from 'vitest';
import { SCRIPTS } from '../../../core/targets/valkey/valkey-scripts.ts';
import { TAG_SCRIPTS } from '../../../core/targets/valkey/valkey-tag-scripts.ts';
import { withRawPair } from '../../support/parity-steps.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const pair = withRawPair(servers);

const evalOf = (script: string, ...rest: string[]) => ['EVAL', script, ...rest];

describe('scripts match Valkey 8 byte for byte', () => {
  it('reply conversions: numbers, strings, booleans, nil, tables, ok/err tables', async () => {
    await pair.flushAll();
    await pair.expectSame([
      evalOf('return 1', '0'),
      evalOf('return 3.99', '0'),
      evalOf('return -3.99', '0'),
      evalOf('return 1/0', '0'),
      evalOf('return 0/0', '0'),
      evalOf('return 2^63', '0'),
      evalOf('return 123456789012345678', '0'),
      evalOf('return 9007199254740993', '0'),
      evalOf("return 'a' .. 1.5", '0'),
      evalOf("return tostring(10/2) .. ' ' .. 5/1 .. ' ' .. 1e15 .. ' ' .. 2^53", '0'),
      evalOf("local a = 5 return a/1 .. ''", '0'),
      evalOf("return {1,2.9,-3.7,'a',true,false,nil,4}", '0'),
      evalOf("return {1,{2,{3}},'x'}", '0'),
      evalOf('return nil', '0'),
      evalOf('return true', '0'),
      evalOf('return false', '0'),
      evalOf('return {}', '0'),
      evalOf('return {a=1}', '0'),
      evalOf("return {ok='fine'}", '0'),
      evalOf('return {ok=5}', '0'),
      evalOf('return {err=5}', '0'),
      evalOf("return {err='x'}", '0'),
      evalOf("return {err='MY x'}", '0'),
      evalOf("return redis.status_reply('A B')", '0'),
      evalOf("return redis.error_reply('A B')", '0'),
      evalOf("return redis.error_reply('-A B')", '0'),
      evalOf("return redis.error_reply('')", '0'),
      evalOf("return redis.error_reply('X')", '0'),
      evalOf("return redis.sha1hex('abc')", '0'),
      evalOf('return redis.sha1hex()', '0'),
      evalOf('return {KEYS[1],ARGV[1],#KEYS,#ARGV}', '1', 'k', 'a'),
      evalOf('return {KEYS[1],KEYS[2],ARGV[1],ARGV[2]}', '2', 'k1', 'k2', 'a1', 'a2'),
      evalOf('return _VERSION', '0'),
      evalOf('return tostring(1/0)', '0'),
      evalOf('return unpack({1,2})', '0'),
      evalOf('return math.pow(2,3)', '0'),
      evalOf('return table.getn({1,2,3})', '0'),
      evalOf('return tonumber("0x10")', '0'),
      evalOf('return math.floor(7/2)', '0'),
      evalOf('return string.format("%d %s %5.2f", 3, "x", 1.5)', '0'),
      evalOf("return type(loadstring('return 1'))", '0'),
      evalOf(
        "return bit.tohex(255) .. ' ' .. bit.band(-1, 0xff) .. ' ' .. bit.lshift(1, 31) .. ' ' .. bit.bnot(0) .. ' ' .. bit.arshift(-256, 4) .. ' ' .. bit.rshift(-256, 4) .. ' ' .. bit.bxor(5, 3) .. ' ' .. bit.tobit(2^32 + 5)",
        '0',
      ),
      evalOf('return redis.LOG_WARNING', '0'),
      evalOf("redis.log(redis.LOG_WARNING, 'x') return 1", '0'),
      evalOf('return redis.REDIS_VERSION', '0'),
      evalOf('return redis.replicate_commands()', '0'),
      evalOf("return server.call('ping')", '0'),
      evalOf('local t = {} for k in pairs(os) do t[#t+1]=k end return t', '0'),
      evalOf('return type(os.clock())', '0'),
      evalOf("return string.rep('x', 3)", '0'),
      evalOf("return {'\\0\\1\\255', #'\\255\\254'}", '0'),
    ]);
  });

  it('redis.call / redis.pcall: replies, errors and refused commands', async () => {
    await pair.flushAll();
    await pair.expectSame([
      evalOf("return redis.call('set','a',1.5)", '0'),
      evalOf("return redis.call('get','a')", '0'),
      evalOf("redis.call('set','a',123456789012345678) return redis.call('get','a')", '0'),
      evalOf("redis.call('set','a',0.1) return redis.call('get','a')", '0'),
      evalOf("redis.call('set','a',true) return redis.call('get','a')", '0'),
      evalOf("return redis.call('get','nokey')", '0'),
      evalOf("return redis.call('get','nokey') == false", '0'),
      evalOf("return type(redis.call('ping'))", '0'),
      evalOf("return redis.call('ping')['ok']", '0'),
      evalOf("redis.call('set','s','abc') return redis.call('incr','s')", '0'),
      evalOf("return redis.pcall('incr','s')", '0'),
      evalOf("return type(redis.pcall('incr','s'))", '0'),
      evalOf("return redis.pcall('incr','s')['err']", '0'),
      evalOf("local r = redis.pcall('incr','s') return r.err .. '!'", '0'),
      evalOf("return redis.call('incr','s','t')", '0'),
      evalOf("return redis.call('nosuch')", '0'),
      evalOf("return redis.call('multi')", '0'),
      evalOf("return redis.call('eval','return 1','0')", '0'),
      evalOf("return redis.call('subscribe','x')", '0'),
      evalOf("return redis.call('client','list')", '0'),
      evalOf('return redis.call()', '0'),
      evalOf('return redis.call({})', '0'),
      evalOf("return redis.call('set','a',{})", '0'),
      evalOf("return redis.call('get', KEYS[1])", '0'),
      evalOf('\n\nredis.call("incr", "x", "y")', '0'),
      evalOf("redis.call('hset','h','f','1','g','2') return redis.call('hgetall','h')", '0'),
      evalOf("redis.call('rpush','l','a','b','c') return redis.call('lrange','l',0,-1)", '0'),
      evalOf("redis.call('zadd','z',1,'a',2,'b') return redis.call('zrange','z',0,-1,'withscores')", '0'),
      evalOf("return redis.call('zscore','z','b')", '0'),
      evalOf("return redis.call('blpop','nolist',0)", '0'),
      evalOf("return redis.call('blpop','l',0)", '0'),
      evalOf("return redis.call('brpoplpush','nolist','l2',0)", '0'),
      evalOf("return redis.call('bzpopmin','noz',0)", '0'),
      evalOf("return redis.call('exists','a','h','l','z')", '0'),
      evalOf("redis.call('set','x','1') return redis.call('ttl','x')", '0'),
      evalOf("redis.call('set','x','1', 'PX', 100000) return redis.call('pttl','x') > 0", '0'),
      evalOf("redis.setresp(3) return redis.call('hgetall','nokey')", '0'),
      evalOf("redis.setresp(3) local m = redis.call('hgetall','h') return {m.f, m.map.f, m.map.g}", '0'),
      evalOf(
        "redis.setresp(3) redis.call('sadd','st','a') local m = redis.call('smembers','st') return {m.set.a, m.set.b}",
        '0',
      ),
      evalOf("redis.setresp(3) return redis.call('get','nokey') == nil", '0'),
      evalOf('return redis.setresp(4)', '0'),
      evalOf("return redis.call('get', 'a', 'b')", '0'),
      ['MULTI'],
      evalOf("return redis.call('incr', KEYS[1])", '1', 'tx:n'),
      ['EVAL', 'return +', '0'],
      evalOf("return redis.call('incrby', KEYS[1], 5)", '1', 'tx:n'),
      ['EXEC'],
      ['MULTI'],
      ['EVAL', 'return 1'],
      ['EXEC'],
    ]);
  });

  it('script errors: compile, runtime, raised tables, globals, shebang', async () => {
    await pair.expectSame([
      evalOf('return +', '0'),
      evalOf('local x = ', '0'),
      evalOf('return x', '0'),
      evalOf('x = 1', '0'),
      evalOf('function f() end', '0'),
      evalOf("error('boom')", '0'),
      evalOf("error('boom', 0)", '0'),
      evalOf('error(42)', '0'),
      evalOf("error({err='MY boom'})", '0'),
      evalOf("local function f() error('deep') end\nf()", '0'),
      evalOf("local function f() error('deep', 2) end\n\nf()", '0'),
      evalOf('local a = nil + 1', '0'),
      evalOf("return print('x')", '0'),
      evalOf('return io', '0'),
      evalOf('return require', '0'),
      evalOf("redis.call('set','s','a')\nreturn redis.call('incr','s')", '0'),
      evalOf("local ok, e = pcall(redis.call, 'incr', 's') return {type(e), e, tostring(ok)}", '0'),
      evalOf("return pcall(redis.call, 'incr', 's')", '0'),
      evalOf("local ok, e = pcall(error, 'x') return e", '0'),
      evalOf('local ok, a, b = pcall(function() return 1, 2 end) return {tostring(ok), a, b}', '0'),
      evalOf('#!lua\nreturn 1', '0'),
      evalOf('#!lua flags=no-writes\nreturn redis.call("set","a","1")', '0'),
      evalOf('#!lua flags=no-writes,allow-oom\nreturn 2', '0'),
      evalOf('#!lua flags=bogus\nreturn 1', '0'),
      evalOf('#!luax\nreturn 1', '0'),
      evalOf('#!lua x=1\nreturn 1', '0'),
      evalOf('#!lua\nreturn x', '0'),
      evalOf('#!lua', '0'),
    ]);
  });

  it('bad input: arity, numkeys, NOSCRIPT, SCRIPT subcommands, EVAL_RO', async () => {
    const one = 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db';
    await pair.expectSame([
      ['SCRIPT', 'FLUSH'],
      ['EVAL'],
      ['EVAL', 'return 1'],
      evalOf('return 1', '-1'),
      evalOf('return 1', '2', 'a'),
      evalOf('return 1', 'x'),
      evalOf('return 1', '1.5'),
      evalOf('return 1', '99999999999999999999'),
      ['EVALSHA', one, '0'],
      ['EVALSHA', 'abc', '0'],
      ['EVALSHA', one, '-1'],
      ['EVALSHA'],
      ['SCRIPT', 'EXISTS', one, 'abc'],
      ['SCRIPT', 'LOAD', 'return 1'],
      ['SCRIPT', 'EXISTS', one, one.toUpperCase(), 'abc'],
      ['SCRIPT', 'SHOW', one],
      ['SCRIPT', 'SHOW', one.toUpperCase()],
      ['SCRIPT', 'SHOW', 'nosuch'],
      ['SCRIPT', 'SHOW'],
      ['SCRIPT', 'SHOW', 'a', 'b'],
      ['EVALSHA', one, '0'],
      ['EVALSHA', one.toUpperCase(), '0'],
      ['EVALSHA_RO', one, '0'],
      ['SCRIPT', 'LOAD', 'return +'],
      ['SCRIPT', 'LOAD'],
      ['SCRIPT', 'LOAD', 'a', 'b'],
      ['SCRIPT', 'EXISTS'],
      ['SCRIPT', 'KILL'],
      ['SCRIPT', 'KILL', 'x'],
      ['SCRIPT', 'FLUSH', 'x'],
      ['SCRIPT', 'FLUSH', 'async'],
      ['SCRIPT', 'FLUSH', 'SYNC'],
      ['SCRIPT', 'FLUSH', 'sync', 'x'],
      ['SCRIPT', 'EXISTS', one],
      ['EVALSHA', one, '0'],
      ['SCRIPT', 'NOPE'],
      ['SCRIPT'],
      ['SCRIPT', 'HELP'],
      evalOf('return 2', '0'),
      ['EVAL_RO', "return redis.call('set','a','1')", '0'],
      ['EVAL_RO', "return redis.call('get','a')", '0'],
      ['EVAL_RO', "return redis.pcall('del','a')", '0'],
      ['EVAL_RO'],
      ['EVALSHA_RO', 'abc', '0'],
      ['SCRIPT', 'EXISTS', '7f923f79fe76194c868d7e1d0820de36700eb649'],
    ]);
  });

  it('cjson: encode, decode, null and their errors', async () => {
    await pair.expectSame([
      evalOf("return cjson.encode({1,2,'a/b\"c\\n',{x=1}})", '0'),
      evalOf('return cjson.encode({})', '0'),
      evalOf('return cjson.encode({a={b={1.5,true,false}}})', '0'),
      evalOf('return cjson.encode(cjson.null)', '0'),
      evalOf('return cjson.encode({[1]=1,[20]=2})', '0'),
      evalOf('return cjson.encode(0/0)', '0'),
      evalOf('return cjson.encode(function() end)', '0'),
      evalOf('return cjson.encode(123456789012345678)', '0'),
      evalOf("return cjson.encode('\\1\\31\u00e9')", '0'),
      evalOf(
        'local t = cjson.decode(\'{"a":[1,2.5,"x",null,true],"b":{"c":"\\\\u00e9\\\\n"}}\') return {t.a[1], t.a[2], t.a[3], t.a[4] == cjson.null, t.a[5], t.b.c}',
        '0',
      ),
      evalOf("return cjson.decode('[1,2')", '0'),
      evalOf('return cjson.decode(\'{"a" 1}\')', '0'),
      evalOf("return cjson.decode('x')", '0'),
      evalOf("return cjson.decode('[] x')", '0'),
      evalOf('return type(cjson.null)', '0'),
      evalOf('return cjson.decode(\'"\\\\ud83d\\\\ude00"\')', '0'),
      evalOf("return cjson.decode('-1.5e3')", '0'),
      evalOf('return cjson.encode(cjson.decode(\'{"k":[1,{"z":null}]}\'))', '0'),
    ]);
  });

  it('huge replies and huge arguments', async () => {
    const big = 'x'.repeat(200_000);
    await pair.expectSame([
      evalOf('local t = {} for i = 1, 100000 do t[i] = i end return t', '0'),
      evalOf("local t = {} for i = 1, 20000 do t[i] = {i, 'v' .. i} end return t", '0'),
      evalOf('return #ARGV[1]', '0', big),
      evalOf("redis.call('set', 'big', ARGV[1]) return redis.call('strlen', 'big')", '0', big),
      evalOf("return redis.call('get', 'big') == ARGV[1]", '0', big),
      evalOf("return string.rep('ab', 100000)", '0'),
    ]);
  });

  it('binary-safe keys, values and arguments', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 13, 10, 0x41]);
    await pair.expectSame([
      [
        'EVAL',
        "redis.call('set', KEYS[1], ARGV[1]) return {redis.call('get', KEYS[1]), #ARGV[1]}",
        '1',
        bytes,
        bytes,
      ],
      ['EVAL', 'return ARGV[1]:byte(1, -1)', '0', bytes],
      ['EVAL', 'return {ARGV[1]:byte(1, -1)}', '0', bytes],
      ['EVAL', 'return redis.sha1hex(ARGV[1])', '0', bytes],
    ]);
  });
});

describe("the project's own Valkey scripts and a rate limiter run unchanged", () => {
  it('SCRIPT LOAD gives the same SHAs; EVALSHA sequences give the same replies and data', async () => {
    await pair.flushAll();
    const cmds: string[][] = [];
    const all = [...SCRIPTS, ...TAG_SCRIPTS];
    for (const s of all) cmds.push(['SCRIPT', 'LOAD', s.lua]);
    const sha = Object.fromEntries(all.map((s) => [s.name, s.sha]));
    const k = (id: string) => [`u:${id}`, `__cdc:v:{u:${id}}`, `__cdc:l:{u:${id}}`];
    const entry = (id: string) => [...k(id), `__cdc:s:{u:${id}}`, `__cdc:g:{u:${id}}`];
    const tagKeys = ['__cdc:te:{t:1}', '__cdc:tm:{t:1}', '__cdc:tq:{t:1}', '__cdc:tb:{t:1}:0007'];
    const tagBump = ['EVALSHA', sha['tag-bump']!, '4', ...tagKeys, '0007', '60000'];
    cmds.push(
      ['EVALSHA', sha.refresh!, '3', ...k('1'), 'v1', '0', '0005'],
      ['EVALSHA', sha.refresh!, '3', ...k('1'), 'old', '0', '0003'],
      ['GET', 'u:1'],
      ['EVALSHA', sha.invalidate!, '3', ...k('1'), '0006', '60000'],
      ['EXISTS', 'u:1'],
      ['EVALSHA', sha.refresh!, '3', ...k('1'), 'late', '0', '0005'],
      ['EVALSHA', sha.lease!, '2', `__cdc:v:{u:2}`, `__cdc:l:{u:2}`, 'tok', '60000'],
      ['EVALSHA', sha['fill-tagged']!, '5', ...entry('2'), 'tok', 'filled', '60000', ''],
      ['GET', 'u:2'],
      ['SET', 'u:2:lease', 'x'],
      ['EVALSHA', sha['write-tagged']!, '5', ...entry('3'), 'written', '0', ''],
      ['GET', 'u:3'],
      ['EVALSHA', sha.release!, '1', '__cdc:l:{u:3}', 'tok'],
      ['SET', 'wrong', 'x'],
      ['HSET', '__cdc:v:{wrong}', 'f', 'v'],
      ['EVALSHA', sha.refresh!, '3', 'wrong', '__cdc:v:{wrong}', '__cdc:l:{wrong}', 'v', '0', '0001'],
      [
        'EVALSHA',
        sha.apply!,
        '3',
        'a:1',
        'a:2',
        'wrong',
        'rir',
        '60000',
        '0010',
        '60000',
        'va1',
        '0011',
        '0012',
        '0',
        'vw',
      ],
      ['EVALSHA', sha.apply!, '2', 'a:1', 'a:{t}x', 'iR', '0', '0020', 't', '0021', '0', 'vx'],
      ['GET', 'a:1'],
      ['GET', 'a:{t}x'],
      // A tag invalidation's steps: the bump (members → batch), a soft and a hard tag-key, the batch done.
      ['SADD', '__cdc:tm:{t:1}', 'u:2', 'u:3'],
      tagBump,
      tagBump,
      ['SCARD', '__cdc:tb:{t:1}:0007'],
      ['EVALSHA', sha['tag-keys']!, '5', ...entry('2'), 't:1', '0007', '60000', '1'],
      ['GET', 'u:2'],
      ['GET', '__cdc:s:{u:2}'],
      ['EVALSHA', sha['tag-keys']!, '5', ...entry('3'), 't:1', '0007', '60000', '0'],
      ['EVALSHA', sha['tag-keys']!, '5', ...entry('3'), 't:1', '0007', '60000', '0'],
      ['EXISTS', 'u:3'],
      // Several entries in one call (a page of one standalone server): both fenced now.
      ['EVALSHA', sha['tag-keys']!, '10', ...entry('2'), ...entry('3'), 't:1', '0007', '60000', '0'],
      [
        'EVALSHA',
        sha['tag-batch-done']!,
        '3',
        '__cdc:tb:{t:1}:0007',
        '__cdc:tq:{t:1}',
        '__cdc:tm:{t:1}',
        '0007',
        '1',
        'u:2',
        'u:3',
      ],
      ['LLEN', '__cdc:tq:{t:1}'],
      ['SCARD', '__cdc:tm:{t:1}'],
      ['EVAL', "local k = redis.call('keys', '*') table.sort(k) return k", '0'],
    );
    await pair.expectSame(cmds);
    // The replies are the adapter's, not errors: one applied refresh on each server.
    expect(await pair.engine.call('GET', 'u:1')).toBe('$-1\r\n');
    // The written u:3 was then removed by the hard tag-key; the soft one kept u:2, marked.
    expect(await pair.engine.call('GET', 'u:3')).toBe('$-1\r\n');
    expect(await pair.engine.call('GET', 'u:2')).toBe('$6\r\nfilled\r\n');
    expect(await pair.engine.call('SCARD', '__cdc:tm:{t:1}')).toBe(':2\r\n'); // a soft batch-done: both join again
  });

  it('a sliding-window rate limiter (ZREMRANGEBYSCORE/ZADD/ZCARD/PEXPIRE) allows and refuses the same calls', async () => {
    const limiter = `local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, 0, now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, now .. '-' .. ARGV[4])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}`;
    const cmds: string[][] = [['SCRIPT', 'LOAD', limiter]];
    const base = 1_765_000_000_000;
    for (let i = 0; i < 30; i++) {
      const now = base + i * 137;
      cmds.push(['EVAL', limiter, '1', 'rl:user:7', String(now), '1000', '5', String(i)]);
    }
    cmds.push(['ZRANGE', 'rl:user:7', '0', '-1', 'WITHSCORES'], ['PTTL', 'rl:user:7']);
    await pair.flushAll();
    await pair.expectSame(cmds.filter((c) => c[0] !== 'PTTL'));
    const allowed = await pair.engine.call('EVAL', limiter, '1', 'rl:fresh', String(base), '1000', '5', 'x');
    expect(allowed).toBe('*2\r\n:1\r\n:4\r\n');
  });
});
