/**
 * The RESP parser's fast path for the two hottest requests: recognises, complete in the buffer,
 * byte for byte `*2 $3 GET $n key` or `*3 $3 SET $n key $m value` (the name in any letter case,
 * bulks of at most 16 KiB and proto-max-bulk-len, every CRLF in place, lengths strictly formatted)
 * and gives the offsets of the key and value, without making a string or an array. Anything else
 * (other commands, partial or malformed input) is FAST_NONE: the full parser then takes it and
 * accepts or refuses it exactly as before, so the fast path never changes what is accepted.
 */

/** Not a request the fast path recognises. */
export const FAST_NONE = 0;
/** A `GET key`. */
export const FAST_GET = 1;
/** A `SET key value`. */
export const FAST_SET = 2;
/** Longest bulk the fast path takes. */
const FAST_BULK_MAX = 16 * 1024;
const CR = 13;
const LF = 10;

/** Offsets of a recognised request (reused per connection: no allocation per request). */
export interface FastRequest {
  key: number;
  keyEnd: number;
  value: number;
  valueEnd: number;
  /** Offset just past the request. */
  after: number;
  /** Scratch: data start of the bulk last matched. */
  start: number;
}

/** A FastRequest to reuse. */
export function newFastRequest(): FastRequest {
  return { key: 0, keyEnd: 0, value: 0, valueEnd: 0, after: 0, start: 0 };
}

/**
 * Matches the request at `buf[p, end)`; returns FAST_GET or FAST_SET with `out` filled, or
 * FAST_NONE (then `out` means nothing).
 */
export function matchFastRequest(
  buf: Buffer,
  p: number,
  end: number,
  maxBulkLen: number,
  out: FastRequest,
): number {
  // "*2\r\n$3\r\nGET\r\n" / "*3\r\n$3\r\nSET\r\n": 13 bytes.
  if (
    p + 13 > end ||
    buf[p] !== 42 ||
    buf[p + 2] !== CR ||
    buf[p + 3] !== LF ||
    buf[p + 4] !== 36 ||
    buf[p + 5] !== 51 ||
    buf[p + 6] !== CR ||
    buf[p + 7] !== LF ||
    buf[p + 11] !== CR ||
    buf[p + 12] !== LF ||
    (buf[p + 9]! | 0x20) !== 101 || // e
    (buf[p + 10]! | 0x20) !== 116 // t
  )
    return FAST_NONE;
  const argc = buf[p + 1];
  const c0 = buf[p + 8]! | 0x20;
  let kind: number;
  if (argc === 50 && c0 === 103)
    kind = FAST_GET; // *2 g
  else if (argc === 51 && c0 === 115)
    kind = FAST_SET; // *3 s
  else return FAST_NONE;
  let at = fastBulk(buf, p + 13, end, maxBulkLen, out);
  if (at < 0) return FAST_NONE;
  out.key = out.start;
  out.keyEnd = at - 2;
  if (kind === FAST_SET) {
    at = fastBulk(buf, at, end, maxBulkLen, out);
    if (at < 0) return FAST_NONE;
    out.value = out.start;
    out.valueEnd = at - 2;
  }
  out.after = at;
  return kind;
}

/**
 * Matches `$len\r\n<len bytes>\r\n` at `p`, all before `end`; returns the offset after it (data
 * start in `out.start`), or -1.
 */
function fastBulk(buf: Buffer, p: number, end: number, maxBulkLen: number, out: FastRequest): number {
  if (p >= end || buf[p] !== 36) return -1;
  let i = p + 1;
  let len = 0;
  const stop = Math.min(end, p + 7);
  while (i < stop) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    len = len * 10 + d;
    i++;
  }
  const digits = i - p - 1;
  if (digits === 0 || (digits > 1 && buf[p + 1] === 48)) return -1;
  if (len > FAST_BULK_MAX || len > maxBulkLen) return -1;
  if (i + 1 >= end || buf[i] !== CR || buf[i + 1] !== LF) return -1;
  const start = i + 2;
  const after = start + len;
  if (after + 2 > end || buf[after] !== CR || buf[after + 1] !== LF) return -1;
  out.start = start;
  return after + 2;
}
