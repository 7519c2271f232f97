/**
 * Fill leases (ARCHITECTURE.md §4): on a cache miss the app takes a lease on the key (a random
 * token, NX + PX semantics), loads from the database, and fills under the lease. An invalidation,
 * refresh or delete of the key cancels the lease, and a fill whose lease is gone (cancelled, expired,
 * released or taken over) is rejected, so a fill racing a change cannot resurrect stale data.
 *
 * Leases live beside the keyspace (not as keys), so they never show up in KEYS/SCAN/dump.
 */
import { randomBytes } from 'node:crypto';

interface Lease {
  token: string;
  expiresAt: number;
}

/** Outstanding leases keyed by data key. */
export class Leases {
  readonly #byKey = new Map<string, Lease>();

  /** Number of outstanding (possibly expired, not yet collected) leases. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Takes a lease for `ttlMs`; returns its token, or null while another live lease is held. */
  acquire(key: string, ttlMs: number, now: number): string | null {
    const held = this.#byKey.get(key);
    if (held && held.expiresAt >= now) return null;
    const token = randomBytes(12).toString('hex');
    this.#byKey.set(key, { token, expiresAt: now + ttlMs });
    return token;
  }

  /** The token of the live lease on `key`, or null. */
  holder(key: string, now: number): string | null {
    const held = this.#byKey.get(key);
    if (!held) return null;
    if (held.expiresAt < now) {
      this.#byKey.delete(key);
      return null;
    }
    return held.token;
  }

  /** Ends the lease if `token` holds it (fill or release); returns whether it did. */
  end(key: string, token: string, now: number): boolean {
    if (this.holder(key, now) !== token) return false;
    this.#byKey.delete(key);
    return true;
  }

  /** Cancels any lease on `key`; returns whether one was outstanding. */
  cancel(key: string): boolean {
    return this.#byKey.delete(key);
  }

  /** Cancels every lease whose key starts with `prefix`; returns the cancelled keys. */
  cancelPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (const key of this.#byKey.keys()) {
      if (key.startsWith(prefix)) {
        this.#byKey.delete(key);
        out.push(key);
      }
    }
    return out;
  }

  /** Drops every lease. */
  clear(): void {
    this.#byKey.clear();
  }
}
