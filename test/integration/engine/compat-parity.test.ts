/**
 * What tools and harnesses send first, against a real valkey-server: FUNCTION FLUSH/LIST, CONFIG
 * SET/GET of Valkey parameter names, READONLY/READWRITE, WAIT, CLIENT NO-EVICT/NO-TOUCH, OBJECT,
 * COPY, TOUCH, RANDOMKEY, INFO section names; and `valkey-cli --bigkeys` run against both.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compareSteps } from '../../support/parity-steps.ts';
import { RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const run = promisify(execFile);

const servers = withValkeyAndEngine();

const compare = (steps: string[]) => compareSteps(servers.valkey.port, servers.engine.port, steps);

describe('harness and tool commands match Valkey 8 byte for byte', () => {
  it('FUNCTION, CONFIG, READONLY, WAIT, CLIENT NO-EVICT/NO-TOUCH', async () => {
    await compare([
      'FUNCTION FLUSH',
      'FUNCTION FLUSH SYNC',
      'FUNCTION FLUSH ASYNC',
      'FUNCTION FLUSH NOW',
      'FUNCTION FLUSH a b',
      'FUNCTION LIST',
      'FUNCTION LIST WITHCODE',
      'FUNCTION LIST LIBRARYNAME x',
      'FUNCTION LIST FOO',
      'FUNCTION DELETE nolib',
      'FUNCTION DELETE',
      'FUNCTION NOPE',
      'FUNCTION',
      'CONFIG SET hz 20',
      'CONFIG GET hz',
      'CONFIG SET notify-keyspace-events KEA',
      'CONFIG SET appendonly no',
      'CONFIG GET appendonly',
      'CONFIG SET save 3600\\s1',
      'CONFIG GET save',
      'CONFIG SET lazyfree-lazy-user-flush yes',
      'CONFIG GET lazyfree-lazy-user-flush',
      'CONFIG SET zset-max-listpack-entries 128',
      'CONFIG GET zset-max-listpack-entries',
      'CONFIG SET daemonize yes',
      'CONFIG SET databases 4',
      'CONFIG SET no-such-param 1',
      'CONFIG SET maxmemory-policy allkeys-lru',
      'CONFIG GET maxmemory-policy',
      'CONFIG SET maxmemory-policy nope',
      'CONFIG GET no-such-param',
      'CONFIG GET',
      'READONLY',
      'READWRITE',
      'READONLY x',
      'WAIT 0 0',
      'WAIT 1 10',
      'WAIT x 0',
      'WAIT 0 x',
      'WAIT 0 -1',
      'WAIT 0',
      'CLIENT NO-EVICT on',
      'CLIENT NO-EVICT off',
      'CLIENT NO-EVICT maybe',
      'CLIENT NO-EVICT',
      'CLIENT NO-TOUCH on',
      'CLIENT NO-TOUCH off',
      'CLIENT NO-TOUCH x',
    ]);
  });

  it('OBJECT, COPY, TOUCH, RANDOMKEY', async () => {
    await compare([
      'RANDOMKEY',
      'SET n 123',
      'RANDOMKEY',
      'SET big 12345678901234567890',
      'SET s hello',
      'OBJECT ENCODING n',
      'OBJECT ENCODING big',
      'OBJECT ENCODING s',
      'OBJECT REFCOUNT s',
      'OBJECT IDLETIME nokey',
      'OBJECT FREQ s',
      'OBJECT HELP',
      'OBJECT',
      'COPY s s2',
      'GET s2',
      'COPY s s2',
      'COPY s s2 REPLACE',
      'COPY s s',
      'COPY nokey s3',
      'COPY s s3 DB 0',
      'COPY s s4 DB 1',
      'COPY s s4 DB x',
      'COPY s s4 FOO',
      'COPY s',
      'SET t v EX 100',
      'COPY t t2',
      'TTL t2',
      'HSET h f v',
      'COPY h h2',
      'HGETALL h2',
      'TOUCH s n nokey',
      'TOUCH',
      'DEL s s2 s3 t t2 h h2 big',
      'RANDOMKEY',
    ]);
  });

  it('INFO names its sections as Valkey does', async () => {
    const c = await RawClient.connect(servers.engine.port);
    const v = await RawClient.connect(servers.valkey.port);
    try {
      const sections = (text: string | null) => [...(text ?? '').matchAll(/^# (\w+)\r$/gm)].map((m) => m[1]);
      const got = sections(await c.call('INFO'));
      const want = sections(await v.call('INFO'));
      expect(got).toEqual(want);
      for (const name of ['replication', 'cpu', 'cluster', 'keyspace', 'errorstats'])
        expect(await c.call('INFO', name)).toMatch(new RegExp(`^\\$\\d+\\r\\n# ${name}`, 'i'));
    } finally {
      c.close();
      v.close();
    }
  });

  it('valkey-cli --bigkeys works against the engine and finds what Valkey finds', async () => {
    const fill = [
      ['SET', 'str:a', 'x'.repeat(100)],
      ['SET', 'str:b', 'y'],
      ['HSET', 'hash:a', 'f1', '1', 'f2', '2'],
      ['RPUSH', 'list:a', '1', '2', '3', '4'],
      ['SADD', 'set:a', 'a', 'b', 'c'],
      ['ZADD', 'zset:a', '1', 'a', '2', 'b'],
    ];
    const biggest: Record<string, string[]> = {};
    for (const [name, port] of [
      ['valkey', servers.valkey.port],
      ['engine', servers.engine.port],
    ] as const) {
      const c = await RawClient.connect(port);
      await c.call('FLUSHALL');
      for (const cmd of fill) await c.call(...cmd);
      c.close();
      const { stdout } = await run('valkey-cli', ['-p', String(port), '--bigkeys'], { timeout: 20_000 });
      biggest[name] = stdout.split('\n').filter((l) => /^Biggest|found '/.test(l.trim()));
    }
    expect(biggest.engine!.length).toBeGreaterThanOrEqual(5);
    expect(biggest.engine).toEqual(biggest.valkey);
  });
});
