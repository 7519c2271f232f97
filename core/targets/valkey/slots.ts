/**
 * Valkey cluster hash slots, computed here so the Valkey adapter can group ops by slot and name
 * metadata keys that land in the same slot as the value they describe.
 *
 * Invariant: `keySlot(k)` equals Valkey's `CLUSTER KEYSLOT k` (CRC16-XMODEM of the key, or of its
 * hash tag — the bytes between the first `{` and the first `}` after it, when non-empty — mod 16384).
 */

/** Number of hash slots in a Valkey cluster. */
export const SLOT_COUNT = 16384;

const TABLE = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 8;
  for (let j = 0; j < 8; j++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
  TABLE[i] = c;
}

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc;
}

function crc16Ascii(s: string, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++)
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ s.charCodeAt(i)) & 0xff]!;
  return crc;
}

/** The hash tag of `key` (what Valkey hashes), or null when the whole key is hashed. */
export function hashTag(key: string): string | null {
  const open = key.indexOf('{');
  if (open < 0) return null;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return null;
  return key.slice(open + 1, close);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The cluster slot of `key` (UTF-8 bytes, as iovalkey sends string keys). */
export function keySlot(key: string): number {
  const hashed = hashTag(key) ?? key;
  if (isAscii(hashed)) return crc16Ascii(hashed, 0, hashed.length) % SLOT_COUNT;
  const bytes = Buffer.from(hashed, 'utf8');
  return crc16(bytes, 0, bytes.length) % SLOT_COUNT;
}

let slotTags: string[] | undefined;

/**
 * A short brace-free string whose slot is `slot`, so `{tag}` pins any name to that slot. Built once
 * (about 200k CRCs, a few ms) on first use: only keys containing braces need it.
 */
export function slotTag(slot: number): string {
  if (slotTags === undefined) {
    const tags: string[] = new Array(SLOT_COUNT);
    let filled = 0;
    for (let i = 0; filled < SLOT_COUNT; i++) {
      const s = i.toString(36);
      const sl = crc16Ascii(s, 0, s.length) % SLOT_COUNT;
      if (tags[sl] === undefined) {
        tags[sl] = s;
        filled++;
      }
    }
    slotTags = tags;
  }
  return slotTags[slot]!;
}
