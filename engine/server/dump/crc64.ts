/**
 * CRC-64/Jones as Valkey computes it for DUMP payloads and RDB files (reflected, polynomial
 * 0xad93d23594c935a9, initial value 0, no final xor; `123456789` → 0xe9c6d914c4b8d9ca). Computed
 * on two 32-bit halves so a long payload costs no BigInt arithmetic per byte.
 */

const POLY_REFLECTED = 0x95ac9329ac4bc9b5n;
const TABLE_LO = new Uint32Array(256);
const TABLE_HI = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = BigInt(i);
  for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ POLY_REFLECTED : c >> 1n;
  TABLE_LO[i] = Number(c & 0xffffffffn);
  TABLE_HI[i] = Number(c >> 32n);
}

/** The CRC-64 of `bytes` as 8 little-endian bytes (the order a DUMP payload carries it in). */
export function crc64(bytes: Uint8Array): Buffer {
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < bytes.length; i++) {
    const idx = (lo ^ bytes[i]!) & 0xff;
    lo = (((lo >>> 8) | (hi << 24)) ^ TABLE_LO[idx]!) >>> 0;
    hi = ((hi >>> 8) ^ TABLE_HI[idx]!) >>> 0;
  }
  const out = Buffer.alloc(8);
  out.writeUInt32LE(lo, 0);
  out.writeUInt32LE(hi, 4);
  return out;
}
