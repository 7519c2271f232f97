/**
 * FUNCTION LOAD|LIST|DELETE|FLUSH|STATS|KILL|HELP and FCALL/FCALL_RO on the engine against a real
 * valkey-server, byte for byte: registration forms and flags, load-time errors, run-time errors
 * with their position, the read-only rules, and bad input.
 */
import { describe, it } from 'vitest';
import { withRawPair } from '../../support/parity-steps.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();
const pair = withRawPair(servers);

const LIB = `#!lua name=mylib
redis.register_function('myfn', function(keys, args) return {keys[1], args[1], #keys, #args} end)`;
const RO = `#!lua name=rolib
redis.register_function{function_name='ro', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}, description='a reader'}`;
const WR = `#!lua name=wrlib
redis.register_function('wr', function(keys, args) return redis.call('set', keys[1], args[1]) end)`;
const ROWRITES = `#!lua name=rowlib
redis.register_function{function_name='rowrite', callback=function(keys) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}`;
const BAD = `#!lua name=badlib

redis.register_function('bad', function(keys, args)
  return nosuch
end)`;
const RATE = `#!lua name=ratelimit
local function hit(keys, args)
  local now, window, limit = tonumber(args[1]), tonumber(args[2]), tonumber(args[3])
  redis.call('ZREMRANGEBYSCORE', keys[1], 0, now - window)
  if redis.call('ZCARD', keys[1]) >= limit then return 0 end
  redis.call('ZADD', keys[1], now, args[4])
  redis.call('PEXPIRE', keys[1], window)
  return 1
end
redis.register_function('hit', hit)`;

describe('functions match Valkey 8 byte for byte', () => {
  it('load, call, list, stats, delete, flush', async () => {
    await pair.expectSame([
      ['FUNCTION', 'FLUSH'],
      ['FLUSHALL'],
      ['FUNCTION', 'LOAD', LIB],
      ['FUNCTION', 'LIST'],
      ['FCALL', 'myfn', '1', 'k', 'a'],
      ['FCALL', 'MYFN', '0'],
      ['FUNCTION', 'LOAD', RO],
      ['FUNCTION', 'LOAD', WR],
      ['FCALL', 'ro', '1', 'k'],
      ['FCALL_RO', 'ro', '1', 'k'],
      ['FCALL_RO', 'wr', '1', 'k', 'v'],
      ['FCALL', 'wr', '1', 'k', 'v'],
      ['FCALL_RO', 'ro', '1', 'k'],
      ['FUNCTION', 'LOAD', ROWRITES],
      ['FCALL', 'rowrite', '1', 'k'],
      ['FUNCTION', 'LOAD', BAD],
      ['FCALL', 'bad', '0'],
      ['FUNCTION', 'LIST', 'LIBRARYNAME', 'rolib'],
      ['FUNCTION', 'LIST', 'LIBRARYNAME', 'rol*', 'WITHCODE'],
      ['FUNCTION', 'LIST', 'LIBRARYNAME', 'my'],
      ['FUNCTION', 'STATS'],
      ['FUNCTION', 'LOAD', RATE],
      ...Array.from({ length: 8 }, (_, i) => [
        'FCALL',
        'hit',
        '1',
        'rl:f',
        String(1000 + i * 100),
        '500',
        '3',
        `m${i}`,
      ]),
      ['ZRANGE', 'rl:f', '0', '-1', 'WITHSCORES'],
      ['FUNCTION', 'DELETE', 'mylib'],
      ['FUNCTION', 'DELETE', 'mylib'],
      ['FCALL', 'myfn', '0'],
      ['FUNCTION', 'LOAD', LIB],
      ['FUNCTION', 'LOAD', 'REPLACE', LIB],
      ['FUNCTION', 'FLUSH', 'ASYNC'],
      ['FUNCTION', 'LIST'],
      ['FCALL', 'ro', '1', 'k'],
      ['FUNCTION', 'STATS'],
    ]);
  });

  it('load-time errors and bad input', async () => {
    await pair.expectSame([
      ['FUNCTION', 'FLUSH'],
      ['FUNCTION', 'LOAD', LIB],
      ['FUNCTION', 'LOAD', `#!lua name=mylib\nredis.register_function('x', function() return 1 end)`],
      [
        'FUNCTION',
        'LOAD',
        'REPLACE',
        `#!lua name=mylib2\nredis.register_function('myfn', function() return 1 end)`,
      ],
      ['FUNCTION', 'LOAD', 'return 1'],
      ['FUNCTION', 'LOAD', '#!lua\nreturn 1'],
      ['FUNCTION', 'LOAD', '#!lua name=a-b\nreturn 1'],
      ['FUNCTION', 'LOAD', '#!lua name=empty\nlocal x = 1'],
      ['FUNCTION', 'LOAD', '#!lua name=syn\nreturn +'],
      ['FUNCTION', 'LOAD', "#!lua name=rt\nerror('x')"],
      ['FUNCTION', 'LOAD', "#!lua name=call\nredis.call('ping')"],
      [
        'FUNCTION',
        'LOAD',
        "#!lua name=dup\nredis.register_function('d', function() end) redis.register_function('d', function() end)",
      ],
      ['FUNCTION', 'LOAD', "#!lua name=badname\nredis.register_function('a-b', function() end)"],
      ['FUNCTION', 'LOAD', "#!lua name=badcb\nredis.register_function('ab', 5)"],
      [
        'FUNCTION',
        'LOAD',
        "#!lua name=badflag\nredis.register_function{function_name='ab', callback=function() end, flags={'bogus'}}",
      ],
      [
        'FUNCTION',
        'LOAD',
        "#!lua name=badkey\nredis.register_function{function_name='ab', callback=function() end, foo=1}",
      ],
      ['FUNCTION', 'LOAD', '#!lua name=glob\nx = 1'],
      ['FUNCTION', 'LOAD', '#!lua name=glob2 foo=bar\nreturn 1'],
      ['FUNCTION', 'LOAD', "#!lua name=keysarg\nredis.register_function('k', function() return KEYS end)"],
      ['FCALL', 'k', '0'],
      ['FCALL', 'nofn', '0'],
      ['FCALL', 'myfn', '-1'],
      ['FCALL', 'myfn', '5'],
      ['FCALL', 'myfn', 'x'],
      ['FCALL', 'myfn'],
      ['FCALL_RO', 'nofn', '0'],
      ['FUNCTION', 'LOAD'],
      ['FUNCTION', 'LOAD', 'replace'],
      ['FUNCTION', 'LOAD', 'x', 'y'],
      ['FUNCTION', 'FLUSH', 'x'],
      ['FUNCTION', 'FLUSH', 'sync', 'x'],
      ['FUNCTION', 'LIST', 'LIBRARYNAME'],
      ['FUNCTION', 'LIST', 'WITHCODE', 'WITHCODE'],
      ['FUNCTION', 'LIST', 'FOO'],
      ['FUNCTION', 'KILL'],
      ['FUNCTION', 'HELP'],
      ['FUNCTION', 'STATS', 'x'],
      ['FUNCTION', 'KILL', 'x'],
      ['FUNCTION', 'HELP', 'x'],
      ['FUNCTION', 'DUMP', 'x'],
      ['FUNCTION', 'DELETE'],
      ['FUNCTION', 'NOPE'],
      ['FUNCTION'],
      ['EVAL', "return redis.call('fcall', 'myfn', '0')", '0'],
      ['FUNCTION', 'FLUSH'],
    ]);
  });
});
