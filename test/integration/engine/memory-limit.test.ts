/**
 * Memory that cannot kill the process (issue 13, input 2): with the default `maxmemory 0` the engine
 * grew until `FATAL ERROR: Reached heap limit` and lost every key. A served engine now always has a
 * limit (half of V8's old-generation limit by default) and evicts (allkeys-lru) when it is reached. The engine
 * runs as its own process with a small heap so the limit is reached in seconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  answersPing,
  type EngineProcess,
  spawnEngine,
  valkeyBenchmark,
} from '../../support/engine-process.ts';
import { RawClient } from '../../support/resp-harness.ts';

const HEAP_MB = 192;
let engine: EngineProcess | undefined;
afterEach(async () => {
  await engine?.stop();
  engine = undefined;
});

async function info(port: number): Promise<Record<string, string>> {
  const c = await RawClient.connect(port);
  try {
    const text = (await c.call('INFO')) ?? '';
    return Object.fromEntries([...text.matchAll(/^(\w+):(.*)\r$/gm)].map((m) => [m[1]!, m[2]!]));
  } finally {
    c.close();
  }
}

/** Writes far more than the heap holds: 300k keys of 500 bytes (~185 MB accounted) into a 192 MB old generation. */
function overfill(port: number, e: EngineProcess): Promise<string> {
  return valkeyBenchmark(
    [
      '-p',
      String(port),
      '-t',
      'set',
      '-d',
      '500',
      '-r',
      '100000000',
      '-n',
      '300000',
      '-P',
      '32',
      '-c',
      '8',
      '-q',
    ],
    e,
  );
}

describe('default maxmemory', () => {
  it('is half of the V8 old-generation limit, reported at start and in INFO', async () => {
    engine = await spawnEngine([], [`--max-old-space-size=${HEAP_MB}`]);
    const i = await info(engine.port);
    const old = Number(i.v8_old_generation_limit);
    expect(old).toBe(HEAP_MB * 1024 * 1024);
    expect(Number(i.maxmemory)).toBe(Math.floor(old * 0.5));
    expect(i.maxmemory_policy).toBe('allkeys-lru');
    expect(engine.stderr()).toMatch(
      /maxmemory [\d.]+M \(\d+ bytes, 50% of the V8 old-generation limit 192\.00M/,
    );
  });

  it('evicts instead of dying when writes exceed the heap, and keeps serving', async () => {
    engine = await spawnEngine([], [`--max-old-space-size=${HEAP_MB}`]);
    await overfill(engine.port, engine);
    expect(engine.alive()).toBe(true);
    const i = await info(engine.port);
    expect(Number(i.evicted_keys)).toBeGreaterThan(0);
    expect(Number(i.used_memory)).toBeLessThanOrEqual(Number(i.maxmemory) + 1024 * 1024);
    expect(await answersPing(engine.port)).toBe(true);
  }, 120_000);

  it('with noeviction answers OOM at the limit and keeps serving reads', async () => {
    engine = await spawnEngine(['--maxmemory-policy', 'noeviction'], [`--max-old-space-size=${HEAP_MB}`]);
    // valkey-benchmark stops at the first error reply: the OOM.
    await expect(overfill(engine.port, engine)).rejects.toThrow(/OOM command not allowed when used memory/);
    expect(engine.alive()).toBe(true);
    const c = await RawClient.connect(engine.port);
    try {
      expect(await c.call('SET', 'one:more', 'x'.repeat(1000))).toBe(
        "-OOM command not allowed when used memory > 'maxmemory'.\r\n",
      );
      expect(await c.call('DBSIZE')).toMatch(/^:[1-9]\d*\r\n$/);
    } finally {
      c.close();
    }
  }, 120_000);

  it('refuses a maxmemory above 80% of the old-generation limit, at start and in CONFIG SET', async () => {
    engine = await spawnEngine([], [`--max-old-space-size=${HEAP_MB}`]);
    const c = await RawClient.connect(engine.port);
    try {
      expect(await c.call('CONFIG', 'SET', 'maxmemory', '4gb')).toMatch(
        /^-ERR CONFIG SET failed \(possibly related to argument 'maxmemory'\) - maxmemory 4\.00G is above 80% of the V8 old-generation limit/,
      );
      expect(await c.call('CONFIG', 'SET', 'maxmemory', '0')).toBe('+OK\r\n');
      expect(await c.call('CONFIG', 'GET', 'maxmemory')).not.toBe('*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n');
    } finally {
      c.close();
    }
    await engine.stop();
    await expect(spawnEngine(['--maxmemory', '4gb'], [`--max-old-space-size=${HEAP_MB}`])).rejects.toThrow(
      /above 80% of the V8 old-generation limit/,
    );
  });
});
