/**
 * Differential steps for parity tests: the same lines run against a real valkey-server and the
 * engine server, on several connections each, and every reply must be byte-identical.
 *
 * A step is one line: `CMD arg arg` runs on connection 0, `@N CMD …` on connection N, `!sleep MS`
 * waits (for expiry), `!resp3` switches connection 0 of both to RESP3, `~CMD …` compares the elements of a flat array reply as a sorted multiset
 * (for replies whose order Valkey leaves to its hash table). Arguments are split on single spaces;
 * `\s` inside an argument is a space.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { RawClient } from './resp-harness.ts';
import type { ValkeyAndEngine } from './valkey-and-engine.ts';

/** Runs `steps` on both servers (after FLUSHALL and the same maxmemory) and asserts identical replies. */
export async function compareSteps(valkeyPort: number, enginePort: number, steps: string[]): Promise<void> {
  const conns = new Map<string, RawClient>();
  const conn = async (side: 'v' | 'e', n: number): Promise<RawClient> => {
    const id = `${side}${n}`;
    let c = conns.get(id);
    if (c === undefined) {
      c = await RawClient.connect(side === 'v' ? valkeyPort : enginePort);
      conns.set(id, c);
    }
    return c;
  };
  try {
    for (const side of ['v', 'e'] as const) {
      const c = await conn(side, 0);
      await c.call('FLUSHALL');
      await c.call('CONFIG', 'SET', 'maxmemory', '100mb');
    }
    const mismatches: string[] = [];
    for (const line of steps) {
      if (line.startsWith('!sleep ')) {
        await new Promise((r) => setTimeout(r, Number(line.slice(7))));
        continue;
      }
      if (line === '!resp3') {
        // Connection ids differ between the servers, so the HELLO reply itself is not compared.
        for (const side of ['v', 'e'] as const) await (await conn(side, 0)).call('HELLO', '3');
        continue;
      }
      let n = 0;
      let text = line;
      const unordered = text.startsWith('~');
      if (unordered) text = text.slice(1);
      const m = /^@(\d+) (.*)$/.exec(line);
      if (m !== null) {
        n = Number(m[1]);
        text = m[2]!;
      }
      const args = text.split(' ').map((a) => a.replaceAll('\\s', ' '));
      let want = await (await conn('v', n)).call(...args);
      let got = await (await conn('e', n)).call(...args);
      if (unordered) {
        want = sortedElements(want);
        got = sortedElements(got);
      }
      if (want !== got)
        mismatches.push(`${line}\n  valkey: ${JSON.stringify(want)}\n  engine: ${JSON.stringify(got)}`);
    }
    expect(mismatches.join('\n')).toBe('');
  } finally {
    for (const c of conns.values()) c.close();
  }
}

/** The elements of a flat array reply (bulk strings, integers), sorted; other replies unchanged. */
function sortedElements(reply: string | null): string | null {
  if (reply === null || !/^[*~]/.test(reply)) return reply;
  const parts = reply.split('\r\n');
  const out: string[] = [];
  for (let i = 1; i < parts.length - 1; i++) {
    if (parts[i]!.startsWith('$')) out.push(parts[++i]!);
    else out.push(parts[i]!);
  }
  return `${parts[0]} ${out.sort().join(',')}`;
}

/**
 * Runs each command on `valkey` then on `engine`; returns the mismatches, one command and both
 * replies each (empty when every reply is identical).
 */
export async function replyMismatches(
  valkey: RawClient,
  engine: RawClient,
  commands: readonly (string | Buffer)[][],
): Promise<string> {
  const out: string[] = [];
  for (const args of commands) {
    const want = await valkey.call(...args);
    const got = await engine.call(...args);
    if (want !== got)
      out.push(
        `${JSON.stringify(args.map(String))}\n  valkey: ${JSON.stringify(want)}\n  engine: ${JSON.stringify(got)}`,
      );
  }
  return out.join('\n');
}

/** One raw client on each server of a {@link withRawPair} pair, and the comparison over both. */
export interface RawPair {
  readonly valkey: RawClient;
  readonly engine: RawClient;
  /** FLUSHALL on both servers. */
  flushAll(): Promise<void>;
  /** Runs each command on both servers; returns the mismatches (empty when identical). */
  compare(commands: (string | Buffer)[][]): Promise<string>;
  /** Runs each command on both servers and asserts identical replies, naming every mismatch. */
  expectSame(commands: (string | Buffer)[][]): Promise<void>;
}

/**
 * Connects a raw client to each server of `servers` in `beforeAll` and closes both in `afterAll`
 * of the calling file (or `describe`).
 */
export function withRawPair(servers: ValkeyAndEngine): RawPair {
  let v: RawClient | undefined;
  let e: RawClient | undefined;
  beforeAll(async () => {
    v = await RawClient.connect(servers.valkey.port);
    e = await RawClient.connect(servers.engine.port);
  });
  afterAll(() => {
    v?.close();
    e?.close();
  });
  const connected = (what: string, c: RawClient | undefined): RawClient => {
    if (c === undefined)
      throw new Error(`withRawPair: the ${what} client is used before beforeAll connected it`);
    return c;
  };
  const pair: RawPair = {
    get valkey() {
      return connected('valkey', v);
    },
    get engine() {
      return connected('engine', e);
    },
    async flushAll() {
      await pair.valkey.call('FLUSHALL');
      await pair.engine.call('FLUSHALL');
    },
    compare: (commands) => replyMismatches(pair.valkey, pair.engine, commands),
    async expectSame(commands) {
      expect(await pair.compare(commands)).toBe('');
    },
  };
  return pair;
}
