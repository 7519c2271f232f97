/**
 * LZF decompression (liblzf's lzf_decompress), for the compressed strings in a DUMP payload from
 * Valkey (it compresses strings over 20 bytes when that saves space). Returns null on any
 * malformed input instead of reading or writing out of bounds.
 */

/** The most output bytes per input byte LZF can encode (264 bytes from a 3-byte back-reference). */
const MAX_EXPANSION = 88;

/** Decompresses `input` into exactly `outLen` bytes; null when the data is not valid LZF of that size. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer | null {
  // The declared length comes from the payload: one that `input` cannot produce is refused before
  // anything is allocated (a 3-byte back-reference, the densest LZF code, yields 264 bytes).
  if (!Number.isSafeInteger(outLen) || outLen < 0 || outLen > input.length * MAX_EXPANSION) return null;
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const len = ctrl + 1;
      if (op + len > outLen || ip + len > input.length) return null;
      for (let i = 0; i < len; i++) out[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) {
        if (ip >= input.length) return null;
        len += input[ip++]!;
      }
      if (ip >= input.length) return null;
      ref -= input[ip++]!;
      len += 2;
      if (ref < 0 || op + len > outLen) return null;
      for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
    }
  }
  return op === outLen ? out : null;
}
