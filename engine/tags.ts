/**
 * Tags (docs/soft-invalidation-and-tags.md): entries name the tags they depend on; one tag
 * invalidation removes every entry tagged with it. The engine keeps the protocol's state natively:
 *
 * - per tag: its **epoch** (the newest tag invalidation's version, kept for the tombstone TTL) and its
 *   **members** (keys that joined since the last invalidation, each until its entry could expire);
 * - per key: the **tag versions** it is known to be current with (written by a fill: the epoch its
 *   load started after; by a tag invalidation: the change's version, as a fence).
 *
 * The engine is single-threaded, so an invalidation takes its members and removes them in one step
 * (Valkey needs a pending list for that: valkey-tags.ts). Versions are byte-ordered strings, '' is
 * "never invalidated".
 */

/** Tag name → the tag epoch an entry's load started after. */
export type TagEpochs = readonly (readonly [tag: string, epoch: string])[];

interface TagState {
  epoch: string;
  epochExpiresAt: number;
  /** key → when its membership lapses (Infinity: never). */
  members: Map<string, number>;
}

interface EntryTags {
  versions: Map<string, string>;
  expiresAt: number;
}

/** How often (in registry calls) expired state is swept. */
const SWEEP_EVERY = 4096;

/** The engine's tag state. */
export class TagRegistry {
  readonly #tags = new Map<string, TagState>();
  readonly #entries = new Map<string, EntryTags>();
  #calls = 0;

  /** Number of tags with state (for tests and INFO-like reports). */
  get size(): number {
    return this.#tags.size;
  }

  /** Adds `key` to each tag's members for `memberTtlMs` (0 = no expiry); returns each tag's epoch. */
  join(key: string, tags: readonly string[], memberTtlMs: number, now: number): string[] {
    this.#maybeSweep(now);
    const until = memberTtlMs > 0 ? now + memberTtlMs : Number.POSITIVE_INFINITY;
    return tags.map((tag) => {
      let state = this.#tags.get(tag);
      if (state === undefined) {
        state = { epoch: '', epochExpiresAt: 0, members: new Map() };
        this.#tags.set(tag, state);
      }
      const held = state.members.get(key);
      if (held === undefined || held < until) state.members.set(key, until);
      return this.#epoch(state, now);
    });
  }

  /** False when a tag invalidation newer than the epoch a load saw was applied to `key` meanwhile. */
  admits(key: string, tags: TagEpochs, now: number): boolean {
    const entry = this.#entry(key, now);
    if (entry === undefined) return true;
    for (const [tag, epoch] of tags) {
      const seen = entry.versions.get(tag);
      if (seen !== undefined && seen > epoch) return false;
    }
    return true;
  }

  /** Records that `key`'s value is current with `tags` (after a fill or write); `expireAt` 0 = none. */
  record(key: string, tags: TagEpochs, expireAt: number, now: number): void {
    if (tags.length === 0) return;
    const until = expireAt === 0 ? Number.POSITIVE_INFINITY : expireAt;
    let entry = this.#entry(key, now);
    if (entry === undefined) {
      entry = { versions: new Map(), expiresAt: until };
      this.#entries.set(key, entry);
    } else if (entry.expiresAt < until) entry.expiresAt = until;
    for (const [tag, epoch] of tags) entry.versions.set(tag, epoch);
  }

  /**
   * Applies a tag invalidation at `version`: fenced when the tag's epoch is as new; otherwise the
   * epoch moves on and the members are taken. Returns the keys to remove (each not already current
   * with `version`), having fenced them for `tombstoneTtlMs`; null when fenced.
   */
  invalidate(tag: string, version: string, tombstoneTtlMs: number, now: number): string[] | null {
    this.#maybeSweep(now);
    let state = this.#tags.get(tag);
    if (state !== undefined && this.#epoch(state, now) >= version) return null;
    if (state === undefined) {
      state = { epoch: '', epochExpiresAt: 0, members: new Map() };
      this.#tags.set(tag, state);
    }
    state.epoch = version;
    state.epochExpiresAt = now + Math.max(1, tombstoneTtlMs);
    const out: string[] = [];
    for (const [key, until] of state.members) {
      if (until < now) continue;
      let entry = this.#entry(key, now);
      const seen = entry?.versions.get(tag);
      if (seen !== undefined && seen >= version) continue;
      if (entry === undefined) {
        entry = { versions: new Map(), expiresAt: now + tombstoneTtlMs };
        this.#entries.set(key, entry);
      } else if (entry.expiresAt < now + tombstoneTtlMs) entry.expiresAt = now + tombstoneTtlMs;
      entry.versions.set(tag, version);
      out.push(key);
    }
    state.members = new Map();
    return out;
  }

  /** Forgets everything (FLUSHALL). */
  clear(): void {
    this.#tags.clear();
    this.#entries.clear();
  }

  #epoch(state: TagState, now: number): string {
    return state.epoch !== '' && state.epochExpiresAt >= now ? state.epoch : '';
  }

  #entry(key: string, now: number): EntryTags | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && entry.expiresAt < now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #maybeSweep(now: number): void {
    if (++this.#calls % SWEEP_EVERY !== 0) return;
    for (const [key, entry] of this.#entries) if (entry.expiresAt < now) this.#entries.delete(key);
    for (const [tag, state] of this.#tags) {
      for (const [key, until] of state.members) if (until < now) state.members.delete(key);
      if (state.members.size === 0 && this.#epoch(state, now) === '') this.#tags.delete(tag);
    }
  }
}
