import { describe, expect, it } from 'vitest';
import { POOL_MAX_BYTES, pooledBulkBuffers } from '../../../../engine/server/bulk-buffers.ts';
import {
  FAST_GET,
  FAST_NONE,
  FAST_SET,
  ProtocolError,
  RespParser,
  splitInlineArgs,
} from '../../../../engine/server/resp-parser.ts';

function parseAll(p: RespParser): string[][] {
  const out: string[][] = [];
  for (let c = p.next(); c !== null; c = p.next()) out.push(c);
  return out;
}

describe('RESP request parser', () => {
  it('parses pipelined multibulk and inline commands', () => {
    const p = new RespParser(1024 * 1024);
    p.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n'));
    expect(parseAll(p)).toEqual([['GET', 'k'], ['PING'], ['SET', 'k', '']]);
  });

  it('resumes at every byte boundary and keeps binary bytes', () => {
    const frame = Buffer.concat([
      Buffer.from('*2\r\n$4\r\nECHO\r\n$4\r\n'),
      Buffer.from([0, 13, 10, 255]),
      Buffer.from('\r\n'),
    ]);
    const p = new RespParser(1024);
    const got: string[][] = [];
    for (let i = 0; i < frame.length; i++) {
      p.feed(frame.subarray(i, i + 1));
      got.push(...parseAll(p));
    }
    expect(got).toEqual([['ECHO', Buffer.from([0, 13, 10, 255]).toString('latin1')]]);
  });

  it('copies what it keeps of a transient read buffer', () => {
    const p = new RespParser(1024);
    const shared = Buffer.from('*1\r\n$4\r\nPI');
    p.feed(shared, true);
    expect(p.next()).toBeNull();
    p.detach();
    shared.fill(0x78);
    p.feed(Buffer.from('NG\r\n'), true);
    expect(p.next()).toEqual(['PING']);
  });

  it('waits for a large bulk without re-parsing, then yields it whole', () => {
    const p = new RespParser(10 * 1024 * 1024);
    p.feed(Buffer.from('*2\r\n$3\r\nSET\r\n$5000000\r\n'));
    expect(p.next()).toBeNull();
    for (let i = 0; i < 50; i++) {
      p.feed(Buffer.alloc(100_000, 0x61));
      expect(p.next()).toBeNull();
    }
    p.feed(Buffer.from('\r\n'));
    const cmd = p.next();
    expect(cmd?.[1]?.length).toBe(5_000_000);
  });

  it('reuses big-bulk buffers across requests and connections without mixing their bytes', () => {
    // One read buffer, reused (and overwritten) after every feed, as the server's read path does.
    const read = Buffer.alloc(64 * 1024);
    const send = (p: RespParser, bytes: Buffer): string[][] => {
      const out: string[][] = [];
      for (let at = 0; at < bytes.length; at += read.length) {
        const n = bytes.copy(read, 0, at, at + read.length);
        p.feed(read, true, n);
        out.push(...parseAll(p));
        p.detach();
        read.fill(0x7a);
      }
      return out;
    };
    const set = (key: string, value: Buffer): Buffer =>
      Buffer.concat([
        Buffer.from(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${value.length}\r\n`),
        value,
        Buffer.from('\r\n'),
      ]);
    const a = new RespParser(1024 * 1024);
    const b = new RespParser(1024 * 1024);
    const big = Buffer.alloc(150_000, 0x61);
    big[0] = 0;
    big[149_999] = 0xff;
    expect(send(a, set('k1', big))).toEqual([['SET', 'k1', big.toString('latin1')]]);
    const pooled = pooledBulkBuffers();
    expect(pooled).toBeGreaterThan(0);
    // A shorter bulk on another connection takes the longer pooled buffer: only its own bytes count.
    const short = Buffer.alloc(40_000, 0x62);
    expect(send(b, Buffer.concat([set('k2', short), Buffer.from('*1\r\n$4\r\nPING\r\n')]))).toEqual([
      ['SET', 'k2', short.toString('latin1')],
      ['PING'],
    ]);
    const again = Buffer.alloc(150_000, 0x63);
    expect(send(a, set('k3', again))).toEqual([['SET', 'k3', again.toString('latin1')]]);
    expect(pooledBulkBuffers()).toBe(pooled);
    // A buffer longer than the pool keeps is not kept.
    const huge = Buffer.alloc(POOL_MAX_BYTES + 1, 0x64);
    expect(send(b, set('k4', huge))[0]?.[2]?.length).toBe(huge.length);
    expect(pooledBulkBuffers()).toBe(pooled);
  });

  it('rejects malformed frames with Valkey messages', () => {
    const err = (input: string, max = 1024): string => {
      const p = new RespParser(max);
      p.feed(Buffer.from(input));
      try {
        parseAll(p);
        return 'no error';
      } catch (e) {
        expect(e).toBeInstanceOf(ProtocolError);
        return (e as Error).message;
      }
    };
    expect(err('*x\r\n')).toBe('Protocol error: invalid multibulk length');
    expect(err('*1\r\nfoo\r\n')).toBe("Protocol error: expected '$', got 'f'");
    expect(err('*1\r\n$2000\r\n')).toBe('Protocol error: invalid bulk length');
    expect(err('SET "a\r\n')).toBe('Protocol error: unbalanced quotes in request');
  });

  it('applies the stricter limits before AUTH', () => {
    const p = new RespParser(1024 * 1024);
    p.unauthenticated = true;
    p.feed(Buffer.from('*11\r\n'));
    expect(() => p.next()).toThrow('invalid multibulk length');
  });
});

describe('inline argument splitting (sdssplitargs)', () => {
  it('handles quotes and escapes', () => {
    expect(splitInlineArgs("SET k \"a b\\x41\\n\" 'c\\'d'")).toEqual(['SET', 'k', 'a bA\n', "c'd"]);
    expect(splitInlineArgs('   ')).toEqual([]);
    expect(splitInlineArgs('"abc"def')).toBeNull();
  });
});

/** Parses `bytes` fed in `chunks`, taking GET/SET through nextFast like the connection does. */
function parseWithFast(chunks: Buffer[], transientEnd = false): string[][] {
  const p = new RespParser(1024 * 1024);
  const out: string[][] = [];
  const reused = Buffer.alloc(64 * 1024, 0x2a); // stale '*' bytes past each read's end
  for (const chunk of chunks) {
    if (transientEnd) {
      chunk.copy(reused);
      p.feed(reused, true, chunk.length);
    } else p.feed(chunk);
    for (;;) {
      const fast = p.nextFast();
      if (fast !== FAST_NONE) {
        const args = p.fastArgs(fast);
        const buf = p.fastBuffer;
        // The offsets point at the very bytes the arguments were made from.
        expect(buf.toString('latin1', p.fast.key, p.fast.keyEnd)).toBe(args[1]);
        if (fast === FAST_SET) expect(buf.toString('latin1', p.fast.value, p.fast.valueEnd)).toBe(args[2]);
        out.push(args);
        continue;
      }
      const args = p.next();
      if (args === null) break;
      out.push(args);
    }
    if (transientEnd) p.detach();
  }
  return out;
}

describe('RESP parser fast path (nextFast)', () => {
  const frames = Buffer.from(
    [
      '*2\r\n$3\r\nGET\r\n$3\r\nabc\r\n',
      '*3\r\n$3\r\nset\r\n$1\r\nk\r\n$5\r\nv\r\nxy\r\n',
      '*2\r\n$3\r\ngEt\r\n$0\r\n\r\n',
      '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n',
      '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n',
      '*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n',
      '*2\r\n$3\r\nGEX\r\n$1\r\nk\r\n',
      '*3\r\n$3\r\nGET\r\n$1\r\nk\r\n$1\r\nx\r\n',
      '*2\r\n$3\r\nSET\r\n$1\r\nk\r\n',
      `*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$16385\r\n${'v'.repeat(16385)}\r\n`,
      `*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$16384\r\n${'w'.repeat(16384)}\r\n`,
      'PING\r\n',
    ].join(''),
    'latin1',
  );
  // The unit parser has no registered command names, so next() keeps the name's case; fastArgs
  // gives the lower-case name the server's registry would.
  const lower = (all: string[][]): string[][] => all.map(([name, ...rest]) => [name!.toLowerCase(), ...rest]);
  const generic = (): string[][] => {
    const p = new RespParser(1024 * 1024);
    p.feed(frames);
    return lower(parseAll(p));
  };

  it('yields exactly what next() yields, whole, split at every byte and from a reused read buffer', () => {
    const want = generic();
    expect(want).toHaveLength(13);
    expect(lower(parseWithFast([frames]))).toEqual(want);
    expect(lower(parseWithFast([frames], true))).toEqual(want);
    const bytes: Buffer[] = [];
    for (let i = 0; i < frames.length; i++) bytes.push(frames.subarray(i, i + 1));
    expect(lower(parseWithFast(bytes, true))).toEqual(want);
    // Random chunkings, from a reused buffer whose stale bytes past each read must never be read.
    let seed = 3;
    for (let round = 0; round < 50; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < frames.length; ) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const n = 1 + (seed % 40);
        chunks.push(frames.subarray(at, at + n));
        at += n;
      }
      expect(lower(parseWithFast(chunks, true))).toEqual(want);
    }
  });

  it('takes GET and SET in any letter case, and nothing else', () => {
    const p = new RespParser(1024 * 1024);
    p.feed(Buffer.from('*2\r\n$3\r\ngEt\r\n$2\r\nk1\r\n*3\r\n$3\r\nsEt\r\n$2\r\nk2\r\n$2\r\nv2\r\n'));
    expect(p.nextFast()).toBe(FAST_GET);
    expect(p.fastArgs(FAST_GET)).toEqual(['get', 'k1']);
    expect(p.nextFast()).toBe(FAST_SET);
    expect(p.fastArgs(FAST_SET)).toEqual(['set', 'k2', 'v2']);
    expect(p.nextFast()).toBe(FAST_NONE);
    for (const other of [
      '*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n',
      '*2\r\n$3\r\nGET\r\n$1\r\nk\r',
      '*2\r\n$3\r\nGET\r\n$1\r\nkx\r\n',
    ]) {
      const q = new RespParser(1024 * 1024);
      q.feed(Buffer.from(other));
      expect(q.nextFast()).toBe(FAST_NONE);
    }
  });

  it('leaves malformed frames and pre-AUTH clients to next(), which refuses them as before', () => {
    for (const bad of [
      '*2\r\n$3\r\nGET\r\n$01\r\na\r\n',
      '*2\r\n$3\r\nGET\r\n$-1\r\n',
      '*2\r\n$3\r\nGET\r\n$x\r\na\r\n',
    ]) {
      const p = new RespParser(1024 * 1024);
      p.feed(Buffer.from(bad));
      expect(p.nextFast()).toBe(FAST_NONE);
      expect(() => p.next()).toThrow(ProtocolError);
    }
    const p = new RespParser(1024 * 1024);
    p.unauthenticated = true;
    p.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'));
    expect(p.nextFast()).toBe(FAST_NONE);
    expect(p.next()).toEqual(['GET', 'k']);
  });
});
