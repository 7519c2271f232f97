/**
 * Blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BZPOPMIN BZPOPMAX, and the *MPOP family): immediate and timed-out replies
 * byte-identical to a real valkey-server, and the same concurrent scenarios run against both:
 * woken by a push from another client, first come first served, a push inside MULTI seen only
 * after EXEC, no blocking inside MULTI; a client that disconnects mid-wait leaves nothing behind.
 */
import { describe, expect, it } from 'vitest';
import { blockedClients } from '../../../engine/server/commands/blocking.ts';
import { compareSteps } from '../../support/parity-steps.ts';
import { encodeCommand, RawClient } from '../../support/resp-harness.ts';
import { withValkeyAndEngine } from '../../support/valkey-and-engine.ts';

const servers = withValkeyAndEngine();

describe('blocking pops match Valkey 8', () => {
  it('immediate, timed-out and refused replies', async () => {
    await compareSteps(servers.valkey.port, servers.engine.port, [
      'BLPOP nol 0.05',
      'BRPOP nol 0.05',
      'BLMOVE nol d LEFT LEFT 0.05',
      'BRPOPLPUSH nol d 0.05',
      'BZPOPMIN noz 0.05',
      'BZPOPMAX noz 0.05',
      'BLPOP nol -1',
      'BLPOP nol x',
      'BLPOP nol 1e20',
      'BLPOP nol',
      'BLMOVE nol d UP LEFT 0.05',
      'SET str x',
      'BLPOP str 0.05',
      'BZPOPMIN str 0.05',
      'RPUSH l1 a b',
      'BLPOP nol l1 0',
      'BRPOP l1 str 0',
      'BLPOP str l1 0',
      'RPUSH l2 x',
      'BLMOVE l2 d RIGHT LEFT 0',
      'BRPOPLPUSH d l2 0',
      'LRANGE l2 0 -1',
      'ZADD z1 1 a 2.5 b',
      'BZPOPMAX z1 0',
      'BZPOPMIN noz z1 0',
      'EXISTS z1',
      'MULTI',
      'BLPOP nol 0',
      'BZPOPMIN noz 0',
      'EXEC',
      '!resp3',
      'BLPOP nol 0.05',
      'ZADD z2 1.5 a',
      'BZPOPMAX z2 0',
      'BLMOVE nol d LEFT LEFT 0.05',
    ]);
  });

  for (const target of ['valkey', 'engine'] as const) {
    it(`${target}: woken by pushes in arrival order, after EXEC, not by a transaction that pops back`, async () => {
      const port = target === 'valkey' ? servers.valkey.port : servers.engine.port;
      const a = await RawClient.connect(port);
      const b = await RawClient.connect(port);
      const w = await RawClient.connect(port);
      try {
        await w.call('DEL', 'bq', 'bz', 'bdst');
        a.write(encodeCommand(['BLPOP', 'bq', '0']));
        await new Promise((r) => setTimeout(r, 50));
        b.write(encodeCommand(['BRPOP', 'bq', '0']));
        await new Promise((r) => setTimeout(r, 50));
        // A transaction that pushes and pops back leaves nothing to serve.
        await w.call('MULTI');
        await w.call('RPUSH', 'bq', 'x');
        await w.call('LPOP', 'bq');
        expect(await w.call('EXEC')).toBe('*2\r\n:1\r\n$1\r\nx\r\n');
        expect(await w.call('RPUSH', 'bq', 'first', 'second')).toBe(':2\r\n');
        expect(await a.read()).toBe('*2\r\n$2\r\nbq\r\n$5\r\nfirst\r\n');
        expect(await b.read()).toBe('*2\r\n$2\r\nbq\r\n$6\r\nsecond\r\n');
        a.write(encodeCommand(['BZPOPMIN', 'bz', '0']));
        b.write(encodeCommand(['BLMOVE', 'bq', 'bdst', 'LEFT', 'RIGHT', '0']));
        await new Promise((r) => setTimeout(r, 50));
        await w.call('ZADD', 'bz', '3', 'm');
        await w.call('LPUSH', 'bq', 'moved');
        expect(await a.read()).toBe('*3\r\n$2\r\nbz\r\n$1\r\nm\r\n$1\r\n3\r\n');
        expect(await b.read()).toBe('$5\r\nmoved\r\n');
        expect(await w.call('LRANGE', 'bdst', '0', '-1')).toBe('*1\r\n$5\r\nmoved\r\n');
        // The blocked client's later pipelined command runs after it was served.
        a.write(Buffer.concat([encodeCommand(['BLPOP', 'bq', '0']), encodeCommand(['PING'])]));
        await new Promise((r) => setTimeout(r, 50));
        await w.call('RPUSH', 'bq', 'z');
        expect(await a.read()).toBe('*2\r\n$2\r\nbq\r\n$1\r\nz\r\n');
        expect(await a.read()).toBe('+PONG\r\n');
      } finally {
        a.close();
        b.close();
        w.close();
      }
    });
  }

  it('LMPOP, ZMPOP, BLMPOP and BZMPOP: replies, errors and argument order as Valkey', async () => {
    await compareSteps(servers.valkey.port, servers.engine.port, [
      'LMPOP 1 nol LEFT',
      'ZMPOP 1 noz MIN',
      'RPUSH l1 a b c d',
      'RPUSH l2 x',
      'LMPOP 2 nol l1 LEFT',
      'LMPOP 2 nol l1 RIGHT COUNT 2',
      'LMPOP 2 l2 l1 LEFT COUNT 10',
      'LMPOP 1 l1 LEFT COUNT 10',
      'EXISTS l1',
      'ZADD z1 1 a 2 b 3.5 c 4 d',
      'ZMPOP 2 noz z1 MIN',
      'ZMPOP 1 z1 MAX COUNT 2',
      'ZMPOP 1 z1 MIN COUNT 5',
      'EXISTS z1',
      'LMPOP 0 l1 LEFT',
      'LMPOP -1 l1 LEFT',
      'LMPOP x l1 LEFT',
      'LMPOP 5 l1 LEFT',
      'LMPOP 1 l1 UP',
      'LMPOP 1 l1 LEFT COUNT 0',
      'LMPOP 1 l1 LEFT COUNT -1',
      'LMPOP 1 l1 LEFT COUNT x',
      'LMPOP 1 l1 LEFT COUNT 1 COUNT 2',
      'LMPOP 1 l1 LEFT COUNT',
      'LMPOP 1 l1 LEFT extra',
      'LMPOP 1',
      'ZMPOP 1 z1 LEFT',
      'ZMPOP 0 z1 MIN',
      'ZMPOP 1 z1 MIN COUNT 0',
      'SET str v',
      'LMPOP 1 str LEFT',
      'ZMPOP 1 str MIN',
      'RPUSH l3 q',
      'LMPOP 2 str l3 LEFT',
      'BLMPOP 0.05 1 nol LEFT',
      'BZMPOP 0.05 1 noz MAX',
      'BLMPOP -1 1 nol LEFT',
      'BLMPOP x 1 nol LEFT',
      'BLMPOP 0 0 nol LEFT',
      'BZMPOP 0 1 noz UP',
      'RPUSH l4 p q r',
      'BLMPOP 0 2 nol l4 RIGHT COUNT 2',
      'ZADD z2 5 m 6 n',
      'BZMPOP 0 1 z2 MAX COUNT 3',
      'MULTI',
      'BLMPOP 0 1 nol LEFT',
      'BZMPOP 0 1 noz MIN',
      'EXEC',
      '!resp3',
      'ZADD z3 1.5 a 2 b',
      'ZMPOP 1 z3 MIN',
      'BZMPOP 0 1 z3 MAX',
      'LMPOP 1 nol LEFT',
      'BLMPOP 0.05 1 nol LEFT',
    ]);
  });

  for (const target of ['valkey', 'engine'] as const) {
    it(`${target}: BLMPOP and BZMPOP are woken by a push with COUNT elements`, async () => {
      const port = target === 'valkey' ? servers.valkey.port : servers.engine.port;
      const a = await RawClient.connect(port);
      const b = await RawClient.connect(port);
      const w = await RawClient.connect(port);
      try {
        await w.call('DEL', 'mq1', 'mq2', 'mz');
        a.write(encodeCommand(['BLMPOP', '0', '2', 'mq1', 'mq2', 'LEFT', 'COUNT', '2']));
        b.write(encodeCommand(['BZMPOP', '0', '1', 'mz', 'MAX', 'COUNT', '2']));
        await new Promise((r) => setTimeout(r, 50));
        expect(await w.call('RPUSH', 'mq2', 'a', 'b', 'c')).toBe(':3\r\n');
        expect(await a.read()).toBe('*2\r\n$3\r\nmq2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n');
        await w.call('ZADD', 'mz', '1', 'x', '2', 'y', '3', 'z');
        expect(await b.read()).toBe(
          '*2\r\n$2\r\nmz\r\n*2\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n*2\r\n$1\r\ny\r\n$1\r\n2\r\n',
        );
        expect(await w.call('LRANGE', 'mq2', '0', '-1')).toBe('*1\r\n$1\r\nc\r\n');
      } finally {
        a.close();
        b.close();
        w.close();
      }
    });
  }

  it('a client that disconnects mid-wait is forgotten; the next waiter gets the push', async () => {
    const gone = await RawClient.connect(servers.engine.port);
    const stays = await RawClient.connect(servers.engine.port);
    const w = await RawClient.connect(servers.engine.port);
    try {
      gone.write(encodeCommand(['BLPOP', 'dq', '0']));
      await new Promise((r) => setTimeout(r, 30));
      stays.write(encodeCommand(['BLPOP', 'dq', '0']));
      for (let i = 0; i < 100 && blockedClients(servers.engine.engine.core) < 2; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(blockedClients(servers.engine.engine.core)).toBe(2);
      gone.close();
      for (let i = 0; i < 100 && blockedClients(servers.engine.engine.core) > 1; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(blockedClients(servers.engine.engine.core)).toBe(1);
      await w.call('RPUSH', 'dq', 'v');
      expect(await stays.read()).toBe('*2\r\n$2\r\ndq\r\n$1\r\nv\r\n');
      expect(blockedClients(servers.engine.engine.core)).toBe(0);
      expect(await w.call('LLEN', 'dq')).toBe(':0\r\n');
      expect(servers.engine.engine.core.listeners.active).toBe(false);
    } finally {
      stays.close();
      w.close();
    }
  });
});
