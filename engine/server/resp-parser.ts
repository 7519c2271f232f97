/**
 * The RESP request parser: turns a connection's byte stream into commands (arrays of latin1
 * strings, one char per byte, so values stay binary-safe).
 *
 * It accepts multibulk requests (`*N\r\n$len\r\n…`) and inline commands (`PING\r\n`), resumes at any
 * byte boundary, and never buffers without bound: a header line longer than 64 KiB, a multibulk
 * count over INT_MAX (10 before AUTH), a request over 1 GiB (closed silently), a bulk longer than proto-max-bulk-len (16 KiB before AUTH) or
 * garbage in place of `$` is a protocol error with Valkey's exact message, after which the
 * connection replies and closes. Bulks are collected chunk by chunk and joined once, so a value
 * arriving in many small reads costs linear time; bulks of BIG_BULK_BYTES and more go straight into
 * one buffer (reused from a small pool up to 512 KiB, see bulk-buffers.ts; bigger ones freed at once
 * when the request completes or the connection closes).
 */
import { constants } from 'node:buffer';
import { returnBulkBuffer, takeBulkBuffer } from './bulk-buffers.ts';
import { commandName } from './command-names.ts';
import { FAST_GET, FAST_NONE, type FastRequest, matchFastRequest, newFastRequest } from './fast-request.ts';
import { splitInlineArgs } from './inline-args.ts';

export { registerCommandNames } from './command-names.ts';
export { FAST_GET, FAST_NONE, FAST_SET } from './fast-request.ts';
export { splitInlineArgs } from './inline-args.ts';

/**
 * The highest proto-max-bulk-len the server accepts (start option and CONFIG SET): the longest
 * string V8 can hold (2^29 - 24 bytes on 64-bit), since every value becomes one string; a longer
 * bulk would end the process with ERR_STRING_TOO_LONG.
 */
export const MAX_PROTO_MAX_BULK_LEN = Math.min(constants.MAX_STRING_LENGTH, 2 ** 29 - 24);

/** Valkey's default proto-max-bulk-len (512 MiB), capped at {@link MAX_PROTO_MAX_BULK_LEN}. */
export const DEFAULT_PROTO_MAX_BULK_LEN = Math.min(512 * 1024 * 1024, MAX_PROTO_MAX_BULK_LEN);

/**
 * Bulks at least this long are received into one buffer of their size (see RespParser.next), as
 * Valkey does from PROTO_MBULK_BIG_ARG (32 KB): one copy instead of a copy per read chunk plus a
 * join (a 150 KB SET: 360 → 238 µs server CPU, bench/results/engine.md).
 */
export const BIG_BULK_BYTES = 32 * 1024;

/** Valkey's limit on an inline request or a header line. */
export const INLINE_MAX_BYTES = 64 * 1024;
/** Valkey 8's limit on the element count of one multibulk request (INT_MAX). */
export const MAX_MULTIBULK_LEN = 2147483647;
/** Valkey's default client-query-buffer-limit: the most bytes one pending request may hold (1 GiB). */
export const QUERY_BUFFER_LIMIT = 1024 * 1024 * 1024;
/** Limits applied to connections that have not authenticated yet (Valkey 8). */
export const UNAUTH_MAX_MULTIBULK_LEN = 10;
export const UNAUTH_MAX_BULK_LEN = 16384;

/** A protocol error: reply `-ERR <message>` then close (`silent`: close without a reply, as Valkey does). */
export class ProtocolError extends Error {
  override name = 'ProtocolError';
  silent = false;
  /** True when the request passed client-query-buffer-limit (counted in INFO). */
  queryBufferLimit = false;
}

/** Node's undocumented but stable Buffer#latin1Slice: skips toString's argument handling on the hot path. */
interface Latin1Sliceable {
  latin1Slice(start: number, end: number): string;
}

const CR = 13;
const EMPTY = Buffer.alloc(0);
const LF = 10;

/** Incremental parser for one connection. */
export class RespParser {
  /** Longest accepted bulk (proto-max-bulk-len). */
  maxBulkLen: number;
  /** When true, the stricter pre-AUTH limits apply. */
  unauthenticated = false;
  /** Most bytes one pending request may hold (client-query-buffer-limit). */
  maxRequestBytes: number;

  #buf: Buffer = EMPTY;
  /** End of the valid bytes in #buf (a reused read buffer holds stale bytes past it). */
  #end = 0;
  #pos = 0;
  /** True while #buf is a caller's transient read buffer. */
  #borrowed = false;
  /** Chunks received while waiting for a large bulk, and their total length. */
  #pending: Buffer[] = [];
  #pendingLen = 0;
  /**
   * A bulk of at least BIG_BULK_BYTES being received into its own buffer (from bulk-buffers.ts,
   * possibly longer than needed), how much arrived, and how much is needed (the bulk and its CRLF).
   */
  #big: Buffer | null = null;
  #bigFill = 0;
  #bigNeed = 0;
  /** Bytes (counted from #pos) needed before parsing can progress; 0 = try now. */
  #need = 0;
  #multibulkLen = 0;
  #bulkLen = -1;
  #args: string[] = [];
  #argc = 0;
  /** Bytes held by the request being assembled (bounded by QUERY_BUFFER_LIMIT). */
  #requestBytes = 0;

  constructor(maxBulkLen: number, maxRequestBytes = QUERY_BUFFER_LIMIT) {
    this.maxBulkLen = maxBulkLen;
    this.maxRequestBytes = maxRequestBytes;
  }

  /** Drops everything held (the connection closed): unparsed bytes, collected chunks, partial request. */
  reset(): void {
    this.#buf = EMPTY;
    this.#end = 0;
    this.#pos = 0;
    this.#borrowed = false;
    this.#pending = [];
    this.#pendingLen = 0;
    this.#freeBig();
    this.#need = 0;
    this.#multibulkLen = 0;
    this.#bulkLen = -1;
    this.#args = [];
    this.#argc = 0;
    this.#requestBytes = 0;
  }

  /**
   * Adds received bytes: `chunk[0, end)`. A `transient` chunk is a read buffer the caller will
   * reuse: the parser copies whatever it keeps of it (see {@link RespParser.detach}).
   */
  feed(chunk: Buffer, transient = false, end = chunk.length): void {
    if (this.#big === null && this.#need === 0 && this.#pos >= this.#end) {
      // The common case (nothing left over): parse straight from the caller's buffer, no view.
      this.#buf = chunk;
      this.#end = end;
      this.#borrowed = transient;
      this.#pos = 0;
      return;
    }
    if (end !== chunk.length) chunk = chunk.subarray(0, end);
    const big = this.#big;
    if (big !== null) {
      const n = Math.min(this.#bigNeed - this.#bigFill, chunk.length);
      chunk.copy(big, this.#bigFill, 0, n);
      this.#bigFill += n;
      if (n < chunk.length) {
        this.#setBuf(chunk.subarray(n));
        this.#borrowed = transient;
        this.#pos = 0;
      }
      return;
    }
    if (this.#need > 0) {
      this.#pending.push(transient ? Buffer.from(chunk) : chunk);
      this.#pendingLen += chunk.length;
      if (this.#end - this.#pos + this.#pendingLen < this.#need) return;
      this.#pending.unshift(this.#buf.subarray(this.#pos, this.#end));
      this.#setBuf(Buffer.concat(this.#pending));
      this.#borrowed = false;
      this.#pending = [];
      this.#pendingLen = 0;
      this.#pos = 0;
      this.#need = 0;
      return;
    }
    this.#setBuf(Buffer.concat([this.#buf.subarray(this.#pos, this.#end), chunk]));
    this.#borrowed = false;
    this.#pos = 0;
  }

  #setBuf(buf: Buffer): void {
    this.#buf = buf;
    this.#end = buf.length;
  }

  /** Copies unparsed bytes out of a transient read buffer before the caller reuses it. */
  detach(): void {
    if (!this.#borrowed) return;
    this.#setBuf(this.#pos < this.#end ? Buffer.from(this.#buf.subarray(this.#pos, this.#end)) : EMPTY);
    this.#pos = 0;
    this.#borrowed = false;
  }

  /** Bytes held but not yet parsed. */
  get buffered(): number {
    return this.#end - this.#pos + this.#pendingLen + this.#bigFill;
  }

  /** Lets go of the big-bulk buffer now (back to the pool, or freed: see bulk-buffers.ts). */
  #freeBig(): void {
    const big = this.#big;
    if (big === null) return;
    this.#big = null;
    this.#bigFill = 0;
    this.#bigNeed = 0;
    returnBulkBuffer(big);
  }

  /**
   * Where the rest of the big bulk being received may be read straight into (a view of its buffer
   * from the first missing byte to the bulk's CRLF end), or null when none is pending. The read path
   * hands such reads to {@link RespParser.receivedDirect}, saving a copy of most of a big value.
   */
  directTarget(): Buffer | null {
    const big = this.#big;
    if (big === null || this.#bigFill >= this.#bigNeed) return null;
    return big.subarray(this.#bigFill, this.#bigNeed);
  }

  /**
   * Counts `n` bytes read into `view`, a view {@link RespParser.directTarget} gave. Returns false,
   * counting nothing, when `view` is not where the bulk continues (the connection must then close).
   */
  receivedDirect(view: Buffer, n: number): boolean {
    const big = this.#big;
    if (
      big === null ||
      view.buffer !== big.buffer ||
      view.byteOffset !== big.byteOffset + this.#bigFill ||
      n > this.#bigNeed - this.#bigFill
    )
      return false;
    this.#bigFill += n;
    return true;
  }

  /** Completes the big bulk once all of it arrived; returns false while bytes are missing. */
  #finishBig(): boolean {
    const big = this.#big!;
    if (this.#bigFill < this.#bigNeed) return false;
    this.#args[this.#argc++] = (big as unknown as Latin1Sliceable).latin1Slice(0, this.#bulkLen);
    this.#bulkLen = -1;
    this.#freeBig();
    return true;
  }

  /**
   * The next complete command, or null when more bytes are needed. Empty requests are skipped.
   * Throws {@link ProtocolError} on malformed input (the connection must then close).
   */
  next(): string[] | null {
    if (this.#big !== null) {
      if (!this.#finishBig()) return null;
      if (this.#argc === this.#multibulkLen) return this.#complete();
    }
    for (;;) {
      if (this.#need > 0) return null;
      const buf = this.#buf;
      const bufEnd = this.#end;
      if (this.#pos >= bufEnd) return null;
      if (this.#multibulkLen === 0) {
        if (buf[this.#pos] !== 42 /* '*' */) {
          const inline = this.#inline();
          if (inline === null) return null;
          if (inline.length === 0) continue;
          return inline;
        }
        const line = this.#lineEnd(true);
        if (line < 0) return null;
        const n = parseInt10(buf, this.#pos + 1, line);
        const limit = this.unauthenticated ? UNAUTH_MAX_MULTIBULK_LEN : MAX_MULTIBULK_LEN;
        if (n === null || n > limit) throw new ProtocolError('Protocol error: invalid multibulk length');
        this.#pos = line + 2;
        if (n <= 0) continue;
        this.#multibulkLen = n;
        // Pre-size small requests (no growth on push); huge counts grow as bulks actually arrive.
        this.#args = n <= 64 ? new Array(n) : [];
        this.#argc = 0;
        this.#requestBytes = 0;
      }
      while (this.#argc < this.#multibulkLen) {
        if (this.#bulkLen === -1) {
          if (this.#pos >= bufEnd) return null;
          const line = this.#lineEnd(false);
          if (line < 0) return null;
          if (buf[this.#pos] !== 36 /* '$' */) {
            throw new ProtocolError(
              `Protocol error: expected '$', got '${String.fromCharCode(buf[this.#pos]!)}'`,
            );
          }
          const len = parseInt10(buf, this.#pos + 1, line);
          const limit = this.unauthenticated ? UNAUTH_MAX_BULK_LEN : this.maxBulkLen;
          if (len === null || len < 0 || len > limit)
            throw new ProtocolError('Protocol error: invalid bulk length');
          this.#pos = line + 2;
          this.#bulkLen = len;
          this.#requestBytes += len + 16;
          if (this.#requestBytes > this.maxRequestBytes) {
            const error = new ProtocolError('query buffer limit reached');
            error.silent = true;
            error.queryBufferLimit = true;
            throw error;
          }
        }
        const end = this.#pos + this.#bulkLen;
        if (end + 2 > bufEnd) {
          if (this.#bulkLen >= BIG_BULK_BYTES) {
            // Receive it straight into one buffer of its final size (as Valkey does): no join that
            // doubles the peak, and the memory goes back at once if the client leaves midway.
            const big = takeBulkBuffer(this.#bulkLen + 2);
            this.#bigNeed = this.#bulkLen + 2;
            this.#bigFill = buf.copy(big, 0, this.#pos, bufEnd);
            this.#big = big;
            this.#setBuf(EMPTY);
            this.#borrowed = false;
            this.#pos = 0;
            return null;
          }
          // Wait for the whole bulk without re-scanning or re-joining on every read.
          this.#need = end + 2 - this.#pos;
          return null;
        }
        this.#args[this.#argc] =
          (this.#argc === 0 ? commandName(buf, this.#pos, end) : undefined) ??
          (buf as unknown as Latin1Sliceable).latin1Slice(this.#pos, end);
        this.#argc++;
        this.#pos = end + 2;
        this.#bulkLen = -1;
      }
      return this.#complete();
    }
  }

  /** The last request {@link RespParser.nextFast} consumed: offsets in {@link RespParser.fastBuffer}. */
  readonly fast: FastRequest = newFastRequest();

  /** The buffer the last fast request's offsets point into (valid until the next feed or detach). */
  get fastBuffer(): Buffer {
    return this.#buf;
  }

  /**
   * Consumes the next request when it is a GET or SET the fast path recognises byte for byte (see
   * fast-request.ts) and returns FAST_GET or FAST_SET, offsets in {@link RespParser.fast};
   * otherwise returns FAST_NONE and consumes nothing ({@link RespParser.next} then parses it as
   * usual, refusing what it always refused). Never used before AUTH or mid-request.
   */
  nextFast(): number {
    if (this.#multibulkLen !== 0 || this.#need !== 0 || this.#big !== null || this.unauthenticated)
      return FAST_NONE;
    const kind = matchFastRequest(this.#buf, this.#pos, this.#end, this.maxBulkLen, this.fast);
    if (kind !== FAST_NONE) this.#pos = this.fast.after;
    return kind;
  }

  /** The last fast request as the argument vector {@link RespParser.next} would have returned. */
  fastArgs(kind: number): string[] {
    const buf = this.#buf as unknown as Latin1Sliceable;
    const f = this.fast;
    const key = buf.latin1Slice(f.key, f.keyEnd);
    return kind === FAST_GET ? ['get', key] : ['set', key, buf.latin1Slice(f.value, f.valueEnd)];
  }

  /** Hands out the finished request and resets for the next one. */
  #complete(): string[] {
    const args = this.#args;
    this.#args = [];
    this.#multibulkLen = 0;
    return args;
  }

  /** Index of the `\r` ending the line at #pos, or -1 (throws when the line is too long). */
  #lineEnd(multibulk: boolean): number {
    const buf = this.#buf;
    const bufEnd = this.#end;
    // A JS scan: header lines are a few bytes, and Buffer#indexOf's native call costs more than that.
    const limit = Math.min(bufEnd, this.#pos + INLINE_MAX_BYTES + 2);
    let i = this.#pos;
    while (i < limit && buf[i] !== CR) i++;
    if (i >= limit) i = -1;
    if (i < 0 || i + 1 >= bufEnd) {
      if (bufEnd - this.#pos > INLINE_MAX_BYTES) {
        throw new ProtocolError(
          multibulk
            ? 'Protocol error: too big mbulk count string'
            : 'Protocol error: too big bulk count string',
        );
      }
      return -1;
    }
    return i;
  }

  #inline(): string[] | null {
    const buf = this.#buf;
    const bufEnd = this.#end;
    // Bounded to the valid bytes: past #end, a reused read buffer holds stale ones.
    const nl = (bufEnd === buf.length ? buf : buf.subarray(0, bufEnd)).indexOf(LF, this.#pos);
    if (nl < 0) {
      if (bufEnd - this.#pos > INLINE_MAX_BYTES)
        throw new ProtocolError('Protocol error: too big inline request');
      return null;
    }
    let end = nl;
    if (end > this.#pos && buf[end - 1] === CR) end--;
    const line = buf.toString('latin1', this.#pos, end);
    this.#pos = nl + 1;
    const args = splitInlineArgs(line);
    if (args === null) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    return args;
  }
}

/**
 * Parses a decimal integer in `buf[start, end)` as strictly as Valkey's string2ll: optional '-', no
 * leading zeros, so `-0` and `01` are malformed (Valkey rejects `$-0` as an invalid bulk length).
 * Returns null when malformed.
 */
function parseInt10(buf: Buffer, start: number, end: number): number | null {
  if (start >= end || end - start > 18) return null;
  if (end - start === 1 && buf[start] === 48) return 0;
  let i = start;
  let neg = false;
  if (buf[i] === 45) {
    neg = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i]! < 49 || buf[i]! > 57) return null;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return null;
    n = n * 10 + d;
  }
  return neg ? -n : n;
}
