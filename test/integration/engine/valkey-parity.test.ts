/**
 * Parity with Valkey 8: the same command sequence runs against a real valkey-server and the engine
 * server, and every reply must be byte-identical (errors included). Commands whose replies differ
 * by nature (INFO, TIME, CLIENT INFO, ordering of KEYS/SCAN over several keys) are left out.
 */
import { describe, expect, it } from 'vitest';
import { replyMismatches } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

async function compare(script: string[][]): Promise<void> {
  const a = await RawClient.connect(servers.valkey.port);
  const b = await RawClient.connect(servers.engine.port);
  try {
    // The same maxmemory on both: a served engine never runs unlimited (its default is a share of
    // the V8 heap), Valkey's default is 0.
    for (const c of [a, b]) {
      await c.call('FLUSHALL');
      await c.call('CONFIG', 'SET', 'maxmemory', '100mb');
    }
    expect(await replyMismatches(a, b, script)).toBe('');
  } finally {
    a.close();
    b.close();
  }
}

const s = (line: string): string[] => line.split(' ');

describe('engine server replies match Valkey 8 byte for byte', () => {
  it('strings', async () => {
    await compare(
      [
        'PING',
        'PING hello',
        'ECHO x',
        'SET a 1',
        'GET a',
        'GET',
        'SET a 1 EX 0',
        'SET a 1 EX -5',
        'SET a 1 EX abc',
        'SET a 1 PX 9223372036854775807',
        'SET a 1 EX 9223372036854775',
        'SET a 1 NX XX',
        'SET a 1 XX NX',
        'SET a 1 KEEPTTL EX 10',
        'SET a 1 EX 10 PX 10',
        'SET a 1 FOO',
        'SET a 1 EX',
        'SET a 2 NX',
        'SET a 2 XX GET',
        'SET n 1 XX',
        'SET n 1 XX GET',
        'SET a 3 NX GET',
        'SETNX a 1',
        'SETNX b 1',
        'SETEX s 0 v',
        'SETEX s abc v',
        'SETEX s 100 v',
        'TTL s',
        'PSETEX p 0 v',
        'MGET a s nope',
        'MSET x 1 y',
        'MSET x 1 y 2',
        'MSETNX x 1 z 2',
        'MSETNX z 1 w 2',
        'GETDEL x',
        'GETDEL x',
        'GETEX a',
        'GETEX a PERSIST',
        'GETEX a EX 0',
        'GETEX a EX 100 PX 100',
        'GETEX a FOO',
        'TTL a',
        'GETEX nope EX 10',
        'GETSET a 9',
        'GETSET new 9',
        'APPEND a 99',
        'APPEND fresh abc',
        'STRLEN a',
        'STRLEN nope',
        'INCR a',
        'INCR s',
        'INCRBY a abc',
        'INCRBY a 9223372036854775807',
        'DECRBY a -9223372036854775808',
        'DECRBY a 5',
        'DECR nope',
        'INCR 01',
        'SET lead 01',
        'INCR lead',
        'SET big 9223372036854775807',
        'INCR big',
        'INCRBYFLOAT f 1.5',
        'INCRBYFLOAT f abc',
        'INCRBYFLOAT f 0.25',
        'INCRBYFLOAT f -1.75',
        'INCRBYFLOAT s 1',
        'SET h x',
        'HSET h f v',
      ].map(s),
    );
  });

  it('keys and expiry', async () => {
    await compare(
      [
        'SET a 1',
        'SET b 2',
        'DEL a nope b',
        'SET a 1',
        'UNLINK a a',
        'SET a 1',
        'EXISTS a a nope',
        'TYPE a',
        'TYPE nope',
        'RENAME nope x',
        'RENAME a a',
        'RENAMENX a a',
        'RENAME a c',
        'GET c',
        'SET d 4',
        'RENAMENX c d',
        'RENAMENX c e',
        'KEYS e',
        'KEYS nomatch*',
        'EXPIRE e 100',
        'EXPIRE e 100 NX',
        'EXPIRE e 100 XX',
        'EXPIRE e 50 GT',
        'EXPIRE e 200 GT',
        'TTL e',
        'EXPIRE e 50 LT',
        'EXPIRE e 500 LT',
        'TTL e',
        'EXPIRE e 10 NX XX',
        'EXPIRE e 10 GT LT',
        'EXPIRE e 10 FOO',
        'EXPIRE e abc',
        'EXPIRE e 9223372036854775807',
        'PEXPIRE e 9223372036854775807',
        'EXPIRE nope 10',
        'EXPIRE d 10 GT',
        'EXPIRE d 10 LT',
        'PERSIST d',
        'PERSIST d',
        'TTL d',
        'PTTL d',
        'TTL nope',
        'PTTL nope',
        'EXPIRETIME d',
        'EXPIRETIME nope',
        'PEXPIREAT d 1000',
        'EXISTS d',
        'EXPIREAT e 32503680000',
        'EXPIRETIME e',
        'PEXPIRETIME e',
        'EXPIRE e -1',
        'EXISTS e',
        'SCAN abc',
        'SCAN 0 COUNT 0',
        'SCAN 0 FOO',
        'SELECT 0',
        'SELECT 1',
        'SELECT x',
        'SET only 1',
        'DBSIZE',
        'SCAN 0',
        'RANDOMKEY',
        'MEMORY FOO',
        'FLUSHDB FOO',
        'FLUSHDB',
        'DBSIZE',
        'RANDOMKEY',
        'SCAN 0 MATCH x*',
      ].map(s),
    );
  });

  it('hashes', async () => {
    await compare(
      [
        'HSET h',
        'HSET h f',
        'HSET h f v g',
        'HSET h f v g w',
        'HSET h f v2',
        'HGET h f',
        'HGET h nope',
        'HGET nope f',
        'HMGET h f nope g',
        'HLEN h',
        'HLEN nope',
        'HEXISTS h f',
        'HEXISTS h nope',
        'HINCRBY h g 1',
        'HINCRBY h c 5',
        'HINCRBY h c abc',
        'HINCRBY h c 9223372036854775807',
        'HDEL h f nope',
        'HDEL h g c',
        'EXISTS h',
        'HSET h only 1',
        'HKEYS h',
        'HVALS h',
        'HGETALL h',
        'HGETALL nope',
        'HSCAN h 0',
        'HSCAN h 0 NOVALUES',
        'HSCAN h abc',
        'HSCAN h 0 COUNT 0',
        'GET h',
        'SET s v',
        'HGET s f',
        'HSET s f v',
        'HGETALL s',
        'TYPE h',
        'HMSET h a 1',
      ].map(s),
    );
  });

  it('connection, admin and errors', async () => {
    await compare(
      [
        'FOO a b',
        'FOO',
        'get',
        'GET a b',
        'AUTH x',
        'AUTH a b',
        'HELLO 4',
        'HELLO abc',
        'HELLO 3 FOO',
        'CLIENT SETNAME a\u0020b',
        'CLIENT SETNAME myname',
        'CLIENT GETNAME',
        'CLIENT FOO',
        'CLIENT SETNAME',
        'CONFIG GET maxmemory',
        'CONFIG GET save',
        'CONFIG FOO',
        'MEMORY USAGE nope',
        'PING a b',
        'ECHO',
        'DBSIZE x',
        'RESET',
      ].map((line) => line.split(' ').map((p) => p.replace('\u0020', ' '))),
    );
  });

  it('RESP3 after HELLO 3', async () => {
    const a = await RawClient.connect(servers.valkey.port);
    const b = await RawClient.connect(servers.engine.port);
    try {
      for (const c of [a, b]) {
        await c.call('FLUSHALL');
        await c.call('CONFIG', 'SET', 'maxmemory', '100mb');
        const hello = await c.call('HELLO', '3');
        expect(hello?.startsWith('%7\r\n$6\r\nserver\r\n$6\r\nvalkey\r\n')).toBe(true);
      }
      const script = [
        'GET nope',
        'SET k v',
        'GET k',
        'HSET h f v',
        'HGETALL h',
        'HGETALL nope',
        'MGET k nope',
        'CONFIG GET maxmemory',
        'INCRBYFLOAT x 1.5',
        'HELLO 2',
        'GET nope',
      ].map(s);
      for (const cmd of script) {
        const want = await a.call(...cmd);
        const got = await b.call(...cmd);
        if (cmd[0] === 'HELLO') continue;
        expect(got, cmd.join(' ')).toBe(want);
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('malformed lengths: $-0, leading zeros and oversize bulks are rejected alike (issue 13)', async () => {
    const frames = [
      '*2\r\n$4\r\nECHO\r\n$-0\r\n\r\n',
      '*1\r\n$04\r\nPING\r\n',
      '*01\r\n$4\r\nPING\r\n',
      '*-0\r\n',
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000000\r\n',
      '*2\r\n$4\r\nECHO\r\n$0\r\n\r\n',
    ];
    for (const frame of frames) {
      const replies: (string | null)[] = [];
      for (const port of [servers.valkey.port, servers.engine.port]) {
        const c = await RawClient.connect(port);
        try {
          c.write(frame);
          c.write('*1\r\n$4\r\nPING\r\n');
          replies.push(`${await c.read()} then ${await c.read()}`);
        } finally {
          c.close();
        }
      }
      expect(replies[1], JSON.stringify(frame)).toBe(replies[0]);
    }
  });

  it('APPEND past proto-max-bulk-len is refused alike (it could pass the longest V8 string)', async () => {
    const a = await RawClient.connect(servers.valkey.port);
    const b = await RawClient.connect(servers.engine.port);
    try {
      for (const c of [a, b])
        expect(await c.call('CONFIG', 'SET', 'proto-max-bulk-len', '1mb')).toBe('+OK\r\n');
      const script = [
        ['SET', 'ap', 'x'.repeat(1024 * 1024 - 10)],
        ['APPEND', 'ap', 'y'.repeat(10)],
        ['APPEND', 'ap', 'z'],
        ['STRLEN', 'ap'],
      ];
      for (const cmd of script) expect(await b.call(...cmd), cmd[0]).toBe(await a.call(...cmd));
    } finally {
      await a.call('CONFIG', 'SET', 'proto-max-bulk-len', '512mb');
      await b.call('CONFIG', 'SET', 'proto-max-bulk-len', '536870888');
      a.close();
      b.close();
    }
  });
});
