/**
 * BF.* on the engine server, checked against valkey-bloom 1.0's documented replies and error texts
 * (Valkey 8.0.1 here has no bloom module, so this is not differential), plus the filter's measured
 * false-positive rate and memory against the configured rate and the theoretical bits per item.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EngineServer, startEngineServer } from '../../../engine/index.ts';
import { BloomValue } from '../../../engine/server/commands/bloom-filter.ts';
import { RawClient } from '../../support/resp-harness.ts';

let engine: EngineServer;
let c: RawClient;

beforeAll(async () => {
  engine = await startEngineServer({ port: 0 });
  c = await RawClient.connect(engine.port);
});
afterAll(async () => {
  c?.close();
  await engine?.close();
});

describe('BF.* replies as valkey-bloom documents them', () => {
  it('reserve, add, exists, card, info, insert and their errors', async () => {
    const steps: [string[], string][] = [
      [['BF.RESERVE', 'bf', '0.01', '1000'], '+OK\r\n'],
      [['BF.RESERVE', 'bf', '0.1', '1000000'], '-ERR item exists\r\n'],
      [['BF.RESERVE', 'bad', '1', '10'], '-ERR (0 < error rate range < 1)\r\n'],
      [['BF.RESERVE', 'bad', 'x', '10'], '-ERR bad error rate\r\n'],
      [['BF.RESERVE', 'bad', '0.01', '0'], '-ERR (capacity should be larger than 0)\r\n'],
      [['BF.RESERVE', 'bad', '0.01', '-5'], '-ERR bad capacity\r\n'],
      [['BF.RESERVE', 'bad', '0.01', '10', 'EXPANSION', '0'], '-ERR bad expansion\r\n'],
      [['BF.RESERVE', 'bad', '0.01', '10', 'FOO'], '-ERROR\r\n'],
      [['BF.RESERVE', 'bad', '0.01'], "-ERR wrong number of arguments for 'bf.reserve' command\r\n"],
      [['EXISTS', 'bad'], ':0\r\n'],
      [['BF.ADD', 'bf', 'a'], ':1\r\n'],
      [['BF.ADD', 'bf', 'a'], ':0\r\n'],
      [['BF.MADD', 'bf', 'a', 'b', 'c'], '*3\r\n:0\r\n:1\r\n:1\r\n'],
      [['BF.EXISTS', 'bf', 'b'], ':1\r\n'],
      [['BF.EXISTS', 'bf', 'zz-never'], ':0\r\n'],
      [['BF.EXISTS', 'nokey', 'a'], ':0\r\n'],
      [['BF.MEXISTS', 'bf', 'a', 'zz-never'], '*2\r\n:1\r\n:0\r\n'],
      [['BF.CARD', 'bf'], ':3\r\n'],
      [['BF.CARD', 'nokey'], ':0\r\n'],
      [['BF.INFO', 'bf', 'CAPACITY'], ':1000\r\n'],
      [['BF.INFO', 'bf', 'ITEMS'], ':3\r\n'],
      [['BF.INFO', 'bf', 'FILTERS'], ':1\r\n'],
      [['BF.INFO', 'bf', 'EXPANSION'], ':2\r\n'],
      [['BF.INFO', 'bf', 'NOPE'], '-ERR invalid information value\r\n'],
      [['BF.INFO', 'nokey'], '-ERR not found\r\n'],
      [['TYPE', 'bf'], '+bloomfltr\r\n'],
      [['BF.RESERVE', 'fixed', '0.01', '2', 'NONSCALING'], '+OK\r\n'],
      [['BF.MADD', 'fixed', 'x', 'y', 'z'], '*3\r\n:1\r\n:1\r\n-ERR non scaling filter is full\r\n'],
      [['BF.ADD', 'fixed', 'w'], '-ERR non scaling filter is full\r\n'],
      [['BF.INFO', 'fixed', 'EXPANSION'], '$-1\r\n'],
      [['BF.ADD', 'auto', 'v'], ':1\r\n'],
      [['BF.INFO', 'auto', 'CAPACITY'], ':100\r\n'],
      [['BF.INSERT', 'ins', 'CAPACITY', '10', 'ERROR', '0.001', 'ITEMS', 'p', 'q'], '*2\r\n:1\r\n:1\r\n'],
      [['BF.INFO', 'ins', 'CAPACITY'], ':10\r\n'],
      [['BF.INSERT', 'ins2', 'NOCREATE', 'ITEMS', 'p'], '-ERR not found\r\n'],
      [['BF.INSERT', 'ins2', 'ITEMS'], "-ERR wrong number of arguments for 'bf.insert' command\r\n"],
      [['BF.INSERT', 'ins2', 'BOGUS'], '-ERR unknown argument received\r\n'],
      [['BF.INSERT', 'ins2', 'CAPACITY'], "-ERR wrong number of arguments for 'bf.insert' command\r\n"],
      [['SET', 'str', 'x'], '+OK\r\n'],
      [['BF.ADD', 'str', 'a'], '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n'],
      [['BF.EXISTS', 'str', 'a'], '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n'],
      [['GET', 'bf'], '-WRONGTYPE Operation against a key holding the wrong kind of value\r\n'],
      [['COPY', 'bf', 'bf2'], ':1\r\n'],
      [['BF.EXISTS', 'bf2', 'c'], ':1\r\n'],
      [['PEXPIRE', 'bf2', '20'], ':1\r\n'],
    ];
    const mismatches: string[] = [];
    for (const [cmd, want] of steps) {
      const got = await c.call(...cmd);
      if (got !== want)
        mismatches.push(`${cmd.join(' ')}: want ${JSON.stringify(want)} got ${JSON.stringify(got)}`);
    }
    expect(mismatches).toEqual([]);
    const info = await c.call('BF.INFO', 'bf');
    expect(info).toMatch(
      /^\*10\r\n\+Capacity\r\n:1000\r\n\+Size\r\n:\d+\r\n\+Number of filters\r\n:1\r\n\+Number of items inserted\r\n:3\r\n\+Expansion rate\r\n:2\r\n$/,
    );
    await new Promise((r) => setTimeout(r, 60));
    expect(await c.call('EXISTS', 'bf2')).toBe(':0\r\n');
  });

  it('scales: a full filter adds a sub-filter of capacity × expansion', async () => {
    await c.call('BF.RESERVE', 'grow', '0.01', '10', 'EXPANSION', '3');
    const items = Array.from({ length: 45 }, (_, i) => `g${i}`);
    await c.call('BF.MADD', 'grow', ...items);
    expect(await c.call('BF.INFO', 'grow', 'FILTERS')).toBe(':3\r\n');
    expect(await c.call('BF.INFO', 'grow', 'CAPACITY')).toBe(':130\r\n');
    const exists = await c.call('BF.MEXISTS', 'grow', ...items);
    expect(exists).toBe(`*45\r\n${':1\r\n'.repeat(45)}`);
    const usage = Number(/^:(\d+)/.exec((await c.call('MEMORY', 'USAGE', 'grow')) ?? '')?.[1]);
    expect(usage).toBeGreaterThan((130 * 9.5) / 8);
  });
});

describe('bloom filter accuracy and memory', () => {
  // Deterministic (fixed hashes, fixed items): the measured numbers are the same every run.
  function measure(rate: number, capacity: number, expansion: number, items: number, probes: number) {
    const bf = new BloomValue(rate, capacity, expansion);
    for (let i = 0; i < items; i++) bf.add(`ip:${i}`);
    let fp = 0;
    for (let i = 0; i < probes; i++) if (bf.has(`probe:${i}`)) fp++;
    const bits = bf.filters.reduce((n, f) => n + f.bits.length * 8, 0);
    return { fp: fp / probes, bitsPerItem: bits / items, ideal: -Math.log(rate) / (Math.LN2 * Math.LN2) };
  }

  it('a non-scaling filter at capacity holds the configured rate at the theoretical bits per item', () => {
    const m = measure(0.01, 20_000, 0, 20_000, 200_000);
    expect(m.fp).toBeLessThanOrEqual(0.01 * 1.15);
    expect(m.bitsPerItem / m.ideal).toBeLessThan(1.01);
  });

  it('a scaling filter grown 100× still holds the configured rate', () => {
    const m = measure(0.01, 200, 2, 20_000, 200_000);
    expect(m.fp).toBeLessThanOrEqual(0.01 * 1.15);
  });
});
