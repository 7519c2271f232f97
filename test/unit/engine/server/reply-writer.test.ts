/**
 * The reply writer's zero-copy hand-off (view/consumed, used when the socket writes at once) and
 * its copying one (take): a lent buffer the socket kept is never written into again, a buffer
 * grown by one big reply is not kept, and the bytes are the same either way.
 */
import { describe, expect, it } from 'vitest';
import { ReplyWriter } from '../../../../engine/server/reply-writer.ts';

/** Whether two views start at the same memory (16 KiB buffers share Node's pool). */
const same = (x: Buffer, y: Buffer): boolean => x.buffer === y.buffer && x.byteOffset === y.byteOffset;

describe('ReplyWriter hand-off', () => {
  it('view() is the pending bytes; after consumed(false) the same memory is reused', () => {
    const w = new ReplyWriter();
    w.simple('OK');
    const first = w.view();
    expect(first.toString('latin1')).toBe('+OK\r\n');
    w.consumed(false);
    expect(w.length).toBe(0);
    w.bulk('hello');
    const second = w.view();
    expect(second.toString('latin1')).toBe('$5\r\nhello\r\n');
    // The steady state allocates nothing: same memory, and a repeated length reuses the view.
    expect(second.buffer).toBe(first.buffer);
    expect(second.byteOffset).toBe(first.byteOffset);
    w.consumed(false);
    w.bulk('world');
    expect(w.view()).toBe(second);
  });

  it('after consumed(true) the writer never touches the lent bytes again', () => {
    const w = new ReplyWriter();
    w.bulk('kept by the socket');
    const lent = w.view();
    const copy = Buffer.from(lent);
    w.consumed(true);
    for (let i = 0; i < 100; i++) w.bulk('overwrite?');
    expect(lent.equals(copy)).toBe(true);
    const next = w.view();
    expect(next.buffer === lent.buffer && next.byteOffset === lent.byteOffset).toBe(false);
  });

  it('a lent buffer given back by recycle() is continued in at the next lend (TLS: two buffers take turns)', () => {
    const w = new ReplyWriter();
    w.bulk('first');
    const a = w.view();
    w.consumed(true);
    w.bulk('second');
    const b = w.view();
    expect(same(b, a)).toBe(false);
    w.recycle(Buffer.from(a)); // a copy is not the lent buffer: ignored
    w.consumed(true); // `b` is lent; `a` was not given back, so a new buffer
    w.bulk('third');
    const c = w.view();
    expect(same(c, a)).toBe(false);
    expect(same(c, b)).toBe(false);
    w.recycle(b); // b's write completed
    w.consumed(true); // `c` lent, continue in `b`
    w.bulk('fourth');
    const d = w.view();
    expect(same(d, b)).toBe(true);
    expect(d.toString('latin1')).toBe('$6\r\nfourth\r\n');
    expect(c.toString('latin1')).toBe('$5\r\nthird\r\n'); // the write still in flight is untouched
    w.recycle(b); // not the lent buffer (that is `d`'s now): ignored
    w.consumed(true);
    w.bulk('fifth');
    expect(same(w.view(), b)).toBe(false);
  });

  it('after a lent big buffer, continues in a new one of the same size (no regrowth per big reply)', () => {
    const w = new ReplyWriter();
    w.bulk('v'.repeat(150_000));
    const lent = w.view();
    expect(lent.buffer.byteLength).toBe(256 * 1024);
    w.consumed(true);
    w.bulk('u'.repeat(150_000));
    const next = w.view();
    expect(next.buffer).not.toBe(lent.buffer);
    expect(next.buffer.byteLength).toBe(256 * 1024);
    expect(lent.toString('latin1', 10, 20)).toBe('vvvvvvvvvv');
  });

  it('drops a buffer grown past 256 KiB once flushed, and take() still returns a private copy', () => {
    const w = new ReplyWriter();
    w.bulk('x'.repeat(300 * 1024));
    const big = w.view();
    expect(big.length).toBe(300 * 1024 + 11);
    w.consumed(false);
    w.simple('OK');
    const after = w.view();
    expect(after.buffer).not.toBe(big.buffer);
    expect(after.toString('latin1')).toBe('+OK\r\n');
    w.consumed(false);
    w.int(42);
    const taken = w.take();
    w.int(7);
    expect(taken.toString('latin1')).toBe(':42\r\n');
    expect(w.view().toString('latin1')).toBe(':7\r\n');
  });
});
