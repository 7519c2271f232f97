/**
 * The reply writer: encodes RESP2/RESP3 replies into one growable Buffer per connection, flushed
 * once per socket read (so a pipeline of N commands costs one `socket.write`, not N). Strings that
 * hold raw bytes are written as latin1 (one byte per char); text from the in-process API as UTF-8.
 *
 * Invariant: after {@link ReplyWriter.take} the internal buffer may be reused, so the returned
 * Buffer is always a copy or a buffer the writer no longer references. {@link ReplyWriter.view}
 * hands out the internal buffer itself (no copy, no allocation in the steady state); the caller
 * then says with {@link ReplyWriter.consumed} whether it still holds it, and if so the writer never
 * writes into that buffer again.
 */

import { releaseBuffer } from './release-buffer.ts';

const CRLF = '\r\n';
const NULL3 = '_\r\n';
const NULL_BULK2 = '$-1\r\n';
/** Below this length a JS byte loop beats Buffer#write's native call. */
const SHORT_STRING = 64;

/** Writes a latin1 string at `at`; returns the new end. */
function putLatin1(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n >= SHORT_STRING) return at + buf.write(s, at, 'latin1');
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  return at + n;
}

/** Writes a non-negative integer in decimal at `at`; returns the new end. */
function putDecimal(buf: Buffer, at: number, n: number): number {
  if (n < 10) {
    buf[at] = 48 + n;
    return at + 1;
  }
  let digits = 0;
  for (let m = n; m > 0; m = Math.floor(m / 10)) digits++;
  for (let i = digits - 1, m = n; i >= 0; i--, m = Math.floor(m / 10)) buf[at + i] = 48 + (m % 10);
  return at + digits;
}
const INITIAL_BYTES = 16 * 1024;
/** Above this size the buffer is handed over instead of copied, and a fresh one is allocated. */
const HANDOVER_BYTES = 64 * 1024;
/** A buffer grown past this is dropped once flushed (one big reply must not pin its size). */
const KEEP_BYTES = 256 * 1024;

/** Encodes replies for one connection. */
export class ReplyWriter {
  /** Protocol version: 2 or 3 (HELLO). */
  resp: 2 | 3 = 2;
  #buf = Buffer.allocUnsafe(INITIAL_BYTES);
  #len = 0;
  /** The last view handed out by {@link ReplyWriter.view} (replies repeat their length). */
  #view: Buffer | null = null;
  /** The buffer last left to an asynchronous write ({@link ReplyWriter.consumed}), until recycled. */
  #lent: Buffer<ArrayBuffer> | null = null;
  /** A lent buffer whose write completed ({@link ReplyWriter.recycle}): the next one to continue in. */
  #spare: Buffer<ArrayBuffer> | null = null;

  /** Bytes waiting to be flushed. */
  get length(): number {
    return this.#len;
  }

  #ensure(extra: number): void {
    const need = this.#len + extra;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
    this.#view = null;
  }

  #ascii(s: string): void {
    this.#ensure(s.length);
    this.#len = putLatin1(this.#buf, this.#len, s);
  }

  /** `+s` (s must not contain CR/LF). */
  simple(s: string): void {
    this.#ensure(s.length + 3);
    const buf = this.#buf;
    buf[this.#len] = 43; // '+'
    const at = putLatin1(buf, this.#len + 1, s);
    buf[at] = 13;
    buf[at + 1] = 10;
    this.#len = at + 2;
  }

  /** `-message` (message includes its code, e.g. `ERR …`, `WRONGTYPE …`). */
  error(message: string): void {
    this.#ascii(`-${message.replace(/[\r\n]+/g, ' ')}${CRLF}`);
  }

  /** `:n` */
  int(n: number | bigint): void {
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) {
      this.#ascii(`:${n}${CRLF}`);
      return;
    }
    // Counters (INCR, LPUSH, SADD…) are the common case: digits straight into the buffer.
    this.#ensure(24);
    const buf = this.#buf;
    let at = this.#len;
    buf[at++] = 58; // ':'
    if (n < 0) {
      buf[at++] = 45; // '-'
      n = -n;
    }
    at = putDecimal(buf, at, n);
    buf[at++] = 13;
    buf[at++] = 10;
    this.#len = at;
  }

  /** A bulk string of raw bytes (latin1 string). */
  bulk(s: string): void {
    const n = s.length;
    this.#ensure(n + 24);
    const buf = this.#buf;
    let at = this.#len;
    buf[at++] = 36; // '$'
    at = putDecimal(buf, at, n);
    buf[at++] = 13;
    buf[at++] = 10;
    if (n > 0) at = putLatin1(buf, at, s);
    buf[at++] = 13;
    buf[at++] = 10;
    this.#len = at;
  }

  /** A bulk string of text (UTF-8). */
  bulkText(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.#ensure(n + 24);
    this.#ascii(`$${n}${CRLF}`);
    this.#len += this.#buf.write(s, this.#len, 'utf8');
    this.#buf[this.#len++] = 13;
    this.#buf[this.#len++] = 10;
  }

  /** The null bulk string (`$-1` / `_`). */
  nil(): void {
    this.#ascii(this.resp === 3 ? NULL3 : NULL_BULK2);
  }

  /** The null array (`*-1` / `_`). */
  nilArray(): void {
    this.#ascii(this.resp === 3 ? `_${CRLF}` : `*-1${CRLF}`);
  }

  /** Array header of `n` elements. */
  array(n: number): void {
    this.#ascii(`*${n}${CRLF}`);
  }

  /** Push header of `n` elements (`>` in RESP3, an array in RESP2: Pub/Sub messages, invalidations). */
  push(n: number): void {
    this.#ascii(this.resp === 3 ? `>${n}${CRLF}` : `*${n}${CRLF}`);
  }

  /** Map header of `n` pairs (a flat array of 2n in RESP2). */
  map(n: number): void {
    this.#ascii(this.resp === 3 ? `%${n}${CRLF}` : `*${n * 2}${CRLF}`);
  }

  /** Set header (an array in RESP2). */
  set(n: number): void {
    this.#ascii(this.resp === 3 ? `~${n}${CRLF}` : `*${n}${CRLF}`);
  }

  /** A double (`,` in RESP3, a bulk string in RESP2). */
  double(text: string): void {
    if (this.resp === 3) this.#ascii(`,${text}${CRLF}`);
    else this.bulk(text);
  }

  /** A verbatim string (`=` with format `txt` in RESP3, a bulk string in RESP2). */
  verbatim(text: string): void {
    if (this.resp === 3) {
      const n = Buffer.byteLength(text, 'utf8') + 4;
      this.#ensure(n + 24);
      this.#ascii(`=${n}${CRLF}txt:`);
      this.#len += this.#buf.write(text, this.#len, 'utf8');
      this.#ascii(CRLF);
    } else this.bulkText(text);
  }

  /** Appends pre-encoded bytes. */
  raw(bytes: Buffer): void {
    this.#ensure(bytes.length);
    bytes.copy(this.#buf, this.#len);
    this.#len += bytes.length;
  }

  /** Empties the writer and lets go of a grown buffer (the connection closed). */
  reset(): void {
    this.#len = 0;
    this.#lent = null;
    this.#spare = null;
    if (this.#buf.length > INITIAL_BYTES) {
      releaseBuffer(this.#buf);
      this.#fresh();
    }
  }

  #fresh(size = INITIAL_BYTES): void {
    this.#buf = Buffer.allocUnsafe(size);
    this.#view = null;
  }

  /**
   * The pending bytes as a view of the internal buffer (no copy). Valid until the next write into
   * the writer; the caller must call {@link ReplyWriter.consumed} before writing again.
   */
  view(): Buffer {
    const len = this.#len;
    const last = this.#view;
    if (last !== null && last.length === len) return last;
    const view = this.#buf.subarray(0, len);
    this.#view = view;
    return view;
  }

  /**
   * Empties the writer after {@link ReplyWriter.view}. `retained`: the caller still references
   * the view (an asynchronous socket write), so the writer moves to a new buffer.
   */
  consumed(retained: boolean): void {
    this.#len = 0;
    // A new buffer of the same size (up to KEEP_BYTES): a connection reading big values would
    // otherwise grow a fresh buffer again, doubling from 16 KiB, for every one of them.
    const size = this.#buf.length;
    if (retained) {
      // On TLS every write completes asynchronously: two buffers take turns (see recycle) instead
      // of a new one per flush.
      this.#lent = this.#buf;
      const next = size <= KEEP_BYTES ? size : INITIAL_BYTES;
      const spare = this.#spare;
      this.#spare = null;
      if (spare !== null && spare.length === next) {
        this.#buf = spare;
        this.#view = null;
      } else this.#fresh(next);
    } else if (this.#buf.length > KEEP_BYTES) {
      releaseBuffer(this.#buf);
      this.#fresh();
    }
  }

  /**
   * Takes back a view from {@link ReplyWriter.view} whose asynchronous write has completed (the
   * socket no longer reads it), so a later {@link ReplyWriter.consumed}`(true)` can continue in its
   * buffer. Anything else (a copy from {@link ReplyWriter.take}, an older buffer) is ignored.
   */
  recycle(written: Buffer): void {
    const lent = this.#lent;
    // Same memory: 16 KiB buffers share Node's allocation pool, so the offset counts too.
    if (lent === null || written.buffer !== lent.buffer || written.byteOffset !== lent.byteOffset) return;
    this.#lent = null;
    if (lent.length <= KEEP_BYTES) this.#spare = lent;
  }

  /** Returns the pending bytes and empties the writer. */
  take(): Buffer {
    const len = this.#len;
    this.#len = 0;
    if (len >= HANDOVER_BYTES) {
      const out = this.#buf.subarray(0, len);
      this.#fresh();
      return out;
    }
    const out = Buffer.allocUnsafe(len);
    this.#buf.copy(out, 0, 0, len);
    return out;
  }
}
