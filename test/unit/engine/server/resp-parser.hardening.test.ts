/**
 * Issue 13's small pieces, as units: loopback means all of 127.0.0.0/8 and ::1 in any spelling;
 * lengths are parsed as strictly as Valkey's string2ll (`$-0` was a zero-length bulk); a big bulk
 * arrives into one buffer that is released when the connection goes; timers past setTimeout's
 * range wait instead of firing at once; big buffers are freed eagerly, pool buffers never.
 */
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../../engine/clock.ts';
import { isLoopback, normalizeBindAddress } from '../../../../engine/server/bind-address.ts';
import { releaseBuffer } from '../../../../engine/server/release-buffer.ts';
import { ProtocolError, RespParser } from '../../../../engine/server/resp-parser.ts';

describe('bind addresses', () => {
  it('treats the whole 127.0.0.0/8, ::1 and localhost as loopback, in every spelling', () => {
    for (const h of [
      '127.0.0.1',
      '127.1',
      '127.255.0.3',
      '0x7f.1',
      '2130706433',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
      'localhost',
    ]) {
      expect(isLoopback(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', 'example.com', '::ffff:10.0.0.1']) {
      expect(isLoopback(h), h).toBe(false);
    }
  });

  it('normalises shorthand so the server binds what the operator meant', () => {
    expect(normalizeBindAddress('127.1')).toBe('127.0.0.1');
    expect(normalizeBindAddress('[::1]')).toBe('::1');
    expect(normalizeBindAddress('localhost')).toBe('localhost');
  });
});

describe('strict lengths (Valkey string2ll)', () => {
  for (const frame of ['*1\r\n$-0\r\n\r\n', '*1\r\n$04\r\nPING\r\n', '*01\r\n$4\r\nPING\r\n', '*-0\r\n']) {
    it(`rejects ${JSON.stringify(frame)}`, () => {
      const p = new RespParser(1024 * 1024);
      p.feed(Buffer.from(frame));
      expect(() => p.next()).toThrow(ProtocolError);
    });
  }

  it('still accepts $0 and *0', () => {
    const p = new RespParser(1024 * 1024);
    p.feed(Buffer.from('*0\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n'));
    expect(p.next()).toEqual(['ECHO', '']);
  });
});

describe('big bulks', () => {
  it('arrive over many reads into one buffer and parse intact', () => {
    const value = Buffer.alloc(3 * 1024 * 1024 + 5, 0x61);
    value[0] = 0xff;
    const frame = Buffer.concat([
      Buffer.from(`*2\r\n$4\r\nECHO\r\n$${value.length}\r\n`),
      value,
      Buffer.from('\r\n*1\r\n$4\r\nPING\r\n'),
    ]);
    const p = new RespParser(16 * 1024 * 1024);
    const got: string[][] = [];
    for (let at = 0; at < frame.length; at += 65_000) {
      p.feed(frame.subarray(at, at + 65_000), true);
      for (let c = p.next(); c !== null; c = p.next()) got.push(c);
      p.detach();
    }
    expect(got.length).toBe(2);
    expect(got[0]![1]!.length).toBe(value.length);
    expect(got[0]![1]!.charCodeAt(0)).toBe(0xff);
    expect(got[1]).toEqual(['PING']);
  });

  it('are dropped by reset (the connection closed midway)', () => {
    const p = new RespParser(16 * 1024 * 1024);
    p.feed(Buffer.from('*2\r\n$4\r\nECHO\r\n$8000000\r\n'));
    expect(p.next()).toBeNull();
    p.feed(Buffer.alloc(2_000_000));
    expect(p.buffered).toBe(2_000_000);
    p.reset();
    expect(p.buffered).toBe(0);
  });
});

describe('releaseBuffer', () => {
  it('frees a big buffer the caller owns, and never touches small (pooled) ones', () => {
    const big = Buffer.allocUnsafe(4 * 1024 * 1024);
    releaseBuffer(big);
    expect(big.length).toBe(0);
    const small = Buffer.from('abc');
    const neighbour = Buffer.from('def');
    releaseBuffer(small);
    expect(small.toString()).toBe('abc');
    expect(neighbour.toString()).toBe('def');
  });
});

describe('system clock timers', () => {
  it('waits past setTimeout range instead of firing at once (CACHE.WAIT k 3000000000)', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w.name);
    };
    process.on('warning', onWarning);
    let fired = false;
    const cancel = systemClock.setTimer(() => {
      fired = true;
    }, 3_000_000_000);
    await new Promise((r) => setTimeout(r, 100));
    cancel();
    process.off('warning', onWarning);
    expect(fired).toBe(false);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});
