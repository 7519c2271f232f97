import { describe, expect, it } from 'vitest';
import { ProtocolError, RespParser, splitInlineArgs } from '../../../../engine/server/resp-parser.ts';

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
