/**
 * A scaling bloom filter, as valkey-bloom builds it: a list of sub-filters; each holds `capacity`
 * items at its false-positive rate with m = ceil(-n·ln p / ln²2) bits and k = ceil(-log2 p) hash
 * functions (the optimum); when the last one is full a new one is added with `capacity × expansion`
 * and the rate tightened by 0.5 per filter. Unlike valkey-bloom (whose scaling filters drift up to
 * twice the configured rate, Σ p·0.5^i), a scaling filter's first sub-filter takes p·(1−0.5), so
 * the sum over all sub-filters stays within the configured rate p (about 1.4 bits per item more);
 * a non-scaling filter uses p itself.
 * Hashing is double hashing over two murmur3 hashes of the item's bytes.
 */
import type { SizedValue } from '../../keyspace.ts';

/** valkey-bloom's defaults and limits. */
export const BLOOM_DEFAULTS = {
  capacity: 100,
  errorRate: 0.01,
  expansion: 2,
  tightening: 0.5,
  /** bf.bloom-memory-usage-limit: most bytes one sub-filter may allocate. */
  maxFilterBytes: 128 * 1024 * 1024,
  maxExpansion: 10,
} as const;

/** Why an add failed (valkey-bloom's error texts). */
export const BloomErrors = {
  full: 'ERR non scaling filter is full',
  tooBig: 'ERR operation results in filter allocation exceeding size limit',
  maxFilters: 'ERR bloom object reached max number of filters',
} as const;

function murmur3(s: string, seed: number): number {
  let h = seed >>> 0;
  const len = s.length;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    let k =
      (s.charCodeAt(i) & 0xff) |
      ((s.charCodeAt(i + 1) & 0xff) << 8) |
      ((s.charCodeAt(i + 2) & 0xff) << 16) |
      ((s.charCodeAt(i + 3) & 0xff) << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len & 3;
  if (rest !== 0) {
    let k = 0;
    if (rest === 3) k ^= (s.charCodeAt(i + 2) & 0xff) << 16;
    if (rest >= 2) k ^= (s.charCodeAt(i + 1) & 0xff) << 8;
    k ^= s.charCodeAt(i) & 0xff;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** One sub-filter. */
export class SubFilter {
  readonly bits: Uint8Array;
  readonly m: number;
  readonly k: number;
  items = 0;
  readonly capacity: number;
  readonly errorRate: number;

  constructor(capacity: number, errorRate: number) {
    this.capacity = capacity;
    this.errorRate = errorRate;
    this.m = SubFilter.bitsFor(capacity, errorRate);
    this.k = Math.max(1, Math.ceil(-Math.log2(errorRate)));
    this.bits = new Uint8Array(Math.ceil(this.m / 8));
  }

  /** Bits a filter of `capacity` at `errorRate` needs. */
  static bitsFor(capacity: number, errorRate: number): number {
    return Math.max(8, Math.ceil((-capacity * Math.log(errorRate)) / (Math.LN2 * Math.LN2)));
  }

  #positions(item: string, each: (bit: number) => boolean): boolean {
    const h1 = murmur3(item, 0x9747b28c);
    const h2 = (murmur3(item, 0x5bd1e995) | 1) >>> 0;
    for (let i = 0; i < this.k; i++) {
      const bit = (h1 + i * h2) % this.m;
      if (!each(bit)) return false;
    }
    return true;
  }

  has(item: string): boolean {
    return this.#positions(item, (b) => (this.bits[b >>> 3]! & (1 << (b & 7))) !== 0);
  }

  add(item: string): void {
    this.#positions(item, (b) => {
      this.bits[b >>> 3] = this.bits[b >>> 3]! | (1 << (b & 7));
      return true;
    });
    this.items++;
  }
}

/** A scaling (or non-scaling, expansion 0) bloom filter. */
export class BloomValue implements SizedValue {
  readonly filters: SubFilter[] = [];
  bytes = 0;
  readonly errorRate: number;
  /** 0 = non-scaling. */
  readonly expansion: number;

  constructor(errorRate: number, capacity: number, expansion: number) {
    this.errorRate = errorRate;
    this.expansion = expansion;
    this.#push(new SubFilter(capacity, this.#rateOf(0)));
  }

  /** The false-positive rate of sub-filter `i` (see the header). */
  #rateOf(i: number): number {
    if (this.expansion === 0) return this.errorRate;
    return this.errorRate * (1 - BLOOM_DEFAULTS.tightening) * BLOOM_DEFAULTS.tightening ** i;
  }

  /** Throws the size-limit error text when a filter of this shape would be too big. */
  static check(capacity: number, errorRate: number): string | null {
    return SubFilter.bitsFor(capacity, errorRate) / 8 > BLOOM_DEFAULTS.maxFilterBytes
      ? BloomErrors.tooBig
      : null;
  }

  #push(f: SubFilter): void {
    this.filters.push(f);
    this.bytes += 200 + f.bits.length;
  }

  has(item: string): boolean {
    for (const f of this.filters) if (f.has(item)) return true;
    return false;
  }

  /** 1 when added, 0 when (probably) present; an error text when it cannot grow. */
  add(item: string): 0 | 1 | string {
    if (this.has(item)) return 0;
    const last = this.filters[this.filters.length - 1]!;
    if (last.items < last.capacity) {
      last.add(item);
      return 1;
    }
    if (this.expansion === 0) return BloomErrors.full;
    const rate = this.#rateOf(this.filters.length);
    if (!(rate > Number.MIN_VALUE)) return BloomErrors.maxFilters;
    const capacity = last.capacity * this.expansion;
    if (capacity > 2 ** 32 - 1) return BloomErrors.maxFilters;
    const tooBig = BloomValue.check(capacity, rate);
    if (tooBig !== null) return tooBig;
    const f = new SubFilter(capacity, rate);
    f.add(item);
    this.#push(f);
    return 1;
  }

  get capacity(): number {
    let n = 0;
    for (const f of this.filters) n += f.capacity;
    return n;
  }

  get items(): number {
    let n = 0;
    for (const f of this.filters) n += f.items;
    return n;
  }

  /** BF.INFO Size: the object plus every sub-filter's bitmap. */
  get size(): number {
    return 40 + this.bytes;
  }

  /** A filter made of `filters` (RESTORE of a DUMP payload: dump/bloom-payload.ts). */
  static fromFilters(errorRate: number, expansion: number, filters: SubFilter[]): BloomValue {
    const out = new BloomValue(errorRate, 1, expansion);
    out.filters.length = 0;
    out.bytes = 0;
    for (const f of filters) out.#push(f);
    return out;
  }

  clone(): BloomValue {
    const out = new BloomValue(this.errorRate, 1, this.expansion === 0 ? 0 : this.expansion);
    out.filters.length = 0;
    out.bytes = 0;
    for (const f of this.filters) {
      const c = new SubFilter(f.capacity, f.errorRate);
      c.bits.set(f.bits);
      c.items = f.items;
      out.#push(c);
    }
    return out;
  }
}
