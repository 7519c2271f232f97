/**
 * The keyspace's key → slot index: an open-addressing hash table (linear probing, backward-shift
 * deletion, no tombstones) in one `Int32Array`, holding the packed slot value (`slot << 4 | kind`,
 * never 0, see keyspace.ts) and nothing else. The key itself is not stored again: a probe compares
 * against the keyspace's own key string for the slot, `kv[slot * 2]` (keys and values interleaved in
 * one array, see keyspace.ts). At most 3/4 full, at least 3/8 once grown, so it
 * costs 5.3–10.7 bytes per key, against ~29 (up to ~58 right after a doubling) for a `Map` entry;
 * that is most of the engine's per-key overhead beyond the key and value strings.
 *
 * Hashing is FNV-1a over the key's char codes with a per-process random seed (a client cannot aim
 * keys at one probe chain without knowing it). Growing rehashes every key at once (O(n) hashing, a
 * few ms per 10⁵ keys); V8's `Map` also rehashes at once when it doubles.
 *
 * Invariants: `#size` = number of non-zero cells; every stored packed value's slot holds the key it
 * was stored under (`kv()[(packed >>> 4) * 2] === key`) for as long as it is stored: the keyspace
 * deletes a key here before it clears the slot's key, and stores the slot's key before or while it
 * inserts here (an insert compares only against other slots' keys).
 */

const MIN_CAPACITY = 1024;
const SEED = (Math.random() * 0x7fffffff) | 0;

/** {@link KeyIndex.getAscii}'s answer for a key with a char above 0x7F (never a packed value: those are > 0). */
export const NOT_ASCII = -1;

/** FNV-1a of a string's char codes (32 bits, seeded). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h ^ (h >>> 15);
}

/**
 * {@link hashKey} of the latin1 string `buf[start, end)` would make, read from the bytes (one char
 * per byte, so the same value), without making the string.
 */
export function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h ^ (h >>> 15);
}

/** Index in the keyspace's interleaved `kv` array of the key of the slot in packed value `e`: `(e >>> 4) * 2`. */
function keyCell(e: number): number {
  return (e >>> 3) & ~1;
}

/** True when the string `s` is the latin1 reading of `buf[start, start + s.length)`. */
function sameBytes(s: string, buf: Uint8Array, start: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

/** Key → packed slot value (slot << 4 | kind); see the file header. */
export class KeyIndex {
  #table = new Int32Array(MIN_CAPACITY);
  #mask = MIN_CAPACITY - 1;
  #size = 0;
  /**
   * The keyspace's interleaved slot array, the key of slot s at index 2s (read at each call: the
   * keyspace replaces it when it grows).
   */
  readonly #kv: () => readonly unknown[];

  constructor(kv: () => readonly unknown[]) {
    this.#kv = kv;
  }

  /** Number of keys. */
  get size(): number {
    return this.#size;
  }

  /** Bytes of the table (for memory accounting). */
  get bytes(): number {
    return this.#table.byteLength;
  }

  /** Cell of `key`, or -(empty cell + 1) where it would go. */
  #find(key: string): number {
    const t = this.#table;
    const mask = this.#mask;
    const kv = this.#kv();
    let i = hashKey(key) & mask;
    for (;;) {
      const e = t[i]!;
      if (e === 0) return -i - 1;
      if (kv[keyCell(e)] === key) return i;
      i = (i + 1) & mask;
    }
  }

  /** The packed value of `key`, or undefined. */
  get(key: string): number | undefined {
    const t = this.#table;
    const mask = this.#mask;
    const kv = this.#kv();
    let i = hashKey(key) & mask;
    for (;;) {
      const e = t[i]!;
      if (e === 0) return undefined;
      if (kv[keyCell(e)] === key) return e;
      i = (i + 1) & mask;
    }
  }

  /**
   * {@link KeyIndex.get} for an in-process text key in one pass: the hash loop also notes whether
   * any char is above 0x7F, and then answers {@link NOT_ASCII} without probing (the caller looks the
   * key up again by its UTF-8 bytes, key-text.ts). For ASCII keys the check costs an OR per char.
   */
  getAscii(key: string): number | undefined {
    let h = 0x811c9dc5 ^ SEED;
    let m = 0;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      m |= c;
      h = Math.imul(h ^ c, 0x01000193);
    }
    if (m > 0x7f) return NOT_ASCII;
    const t = this.#table;
    const mask = this.#mask;
    const kv = this.#kv();
    let i = (h ^ (h >>> 15)) & mask;
    for (;;) {
      const e = t[i]!;
      if (e === 0) return undefined;
      if (kv[keyCell(e)] === key) return e;
      i = (i + 1) & mask;
    }
  }

  /**
   * The packed value of the key whose raw bytes (a protocol argument) are `buf[start, end)`, or
   * undefined: the same answer as `get(buf.latin1Slice(start, end))`, without making the string.
   */
  getBytes(buf: Uint8Array, start: number, end: number): number | undefined {
    const t = this.#table;
    const mask = this.#mask;
    const kv = this.#kv();
    const len = end - start;
    let i = hashBytes(buf, start, end) & mask;
    for (;;) {
      const e = t[i]!;
      if (e === 0) return undefined;
      const k = kv[keyCell(e)] as string;
      if (k.length === len && sameBytes(k, buf, start)) return e;
      i = (i + 1) & mask;
    }
  }

  /** True when `key` is present. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Stores (or replaces) the packed value of `key`; `packed` must be non-zero. */
  set(key: string, packed: number): this {
    const at = this.#find(key);
    if (at >= 0) {
      this.#table[at] = packed;
      return this;
    }
    this.#table[-at - 1] = packed;
    this.#size++;
    if (this.#size * 4 > this.#table.length * 3) this.#resize(this.#table.length * 2);
    return this;
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    let i = this.#find(key);
    if (i < 0) return false;
    const t = this.#table;
    const mask = this.#mask;
    const kv = this.#kv();
    // Backward-shift: move later entries of the probe run into the hole when their home cell
    // does not lie (cyclically) in (hole, j].
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const e = t[j]!;
      if (e === 0) break;
      const home = hashKey(kv[keyCell(e)] as string) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      t[i] = e;
      i = j;
    }
    t[i] = 0;
    this.#size--;
    if (this.#table.length > MIN_CAPACITY && this.#size * 8 < this.#table.length)
      this.#resize(this.#table.length / 2);
    return true;
  }

  /** Every key (table order, not insertion order). */
  *keys(): IterableIterator<string> {
    const t = this.#table;
    const kv = this.#kv();
    for (let i = 0; i < t.length; i++) if (t[i] !== 0) yield kv[keyCell(t[i]!)] as string;
  }

  /** Removes every key and gives the table's memory back. */
  clear(): void {
    this.#table = new Int32Array(MIN_CAPACITY);
    this.#mask = MIN_CAPACITY - 1;
    this.#size = 0;
  }

  #resize(capacity: number): void {
    const old = this.#table;
    const t = new Int32Array(capacity);
    const mask = capacity - 1;
    const kv = this.#kv();
    for (let c = 0; c < old.length; c++) {
      const e = old[c]!;
      if (e === 0) continue;
      let i = hashKey(kv[keyCell(e)] as string) & mask;
      while (t[i] !== 0) i = (i + 1) & mask;
      t[i] = e;
    }
    this.#table = t;
    this.#mask = mask;
  }
}
