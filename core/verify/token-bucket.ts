/**
 * A token bucket: at most `ratePerSec` tokens per second on average, bursts up to `burst`. The
 * verifier takes one token per read (cache or source of truth), so its load is bounded however many
 * changes it samples. The clock and sleep are injectable (tests use a fake clock).
 */

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second; must be > 0. */
  ratePerSec: number;
  /** Bucket size. @default max(1, ratePerSec / 10) */
  burst?: number;
  /** Clock, ms. @default Date.now */
  now?: () => number;
  /** Sleep. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

/** A token bucket rate limiter (see module comment). */
export class TokenBucket {
  readonly ratePerSec: number;
  readonly burst: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #last: number;
  /** Total time callers spent waiting for tokens, ms. */
  waitedMs = 0;

  constructor(o: TokenBucketOptions) {
    if (!(o.ratePerSec > 0) || !Number.isFinite(o.ratePerSec))
      throw new RangeError(`rate must be a positive number of reads per second, got ${o.ratePerSec}`);
    this.ratePerSec = o.ratePerSec;
    this.burst = o.burst ?? Math.max(1, o.ratePerSec / 10);
    if (!(this.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${this.burst}`);
    this.#now = o.now ?? Date.now;
    this.#sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#tokens = this.burst;
    this.#last = this.#now();
  }

  #refill(): void {
    const t = this.#now();
    if (t > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) * this.ratePerSec) / 1000);
      this.#last = t;
    }
  }

  /** Takes `n` tokens now if available; true when taken. */
  tryTake(n = 1): boolean {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Takes one token, waiting until one is available. */
  async take(): Promise<void> {
    for (;;) {
      if (this.tryTake(1)) return;
      const ms = Math.max(1, Math.ceil(((1 - this.#tokens) * 1000) / this.ratePerSec));
      this.waitedMs += ms;
      await this.#sleep(ms);
    }
  }
}
