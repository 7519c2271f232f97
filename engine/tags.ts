/**
 * Tags (docs/soft-invalidation-and-tags.md): entries name the tags they depend on; one tag
 * invalidation removes every entry tagged with it. The engine keeps the protocol's state natively:
 *
 * - per tag: its **epoch** (the newest tag invalidation's version, kept for the tombstone TTL) and its
 *   **members** (keys that joined since the last invalidation, each until its entry could expire);
 * - per key: the **tag versions** it is known to be current with (written by a fill: the epoch its
 *   load started after; by a tag invalidation: the change's version, as a fence).
 *
 * An invalidation takes the members as one pending batch in O(1) (`bump`) and processes them a page
 * at a time (`page`), so a tag with very many entries never blocks the engine (or its server) for
 * long; what a crashed caller left pending, the next call of any change of the tag finishes, as on
 * Valkey (valkey-tags.ts). Versions are byte-ordered strings, '' is "never invalidated".
 */

/** Width of the counter of {@link nextAppVersion}. */
const APP_COUNTER_DIGITS = 12;

/**
 * The version of an app-side tag invalidation that names none (docs/soft-invalidation-and-tags.md):
 * the epoch's source part, `+`, and a counter one past the epoch's. It sorts above the epoch and below
 * every newer source version (`+` sorts below the `.` and digits that follow a version's prefix),
 * so a later change from the source still applies, and a redelivered older one stays fenced. The
 * same rule as core/event/version.ts `nextAppVersion` (the engine imports nothing from core/).
 */
export function nextAppVersion(epoch: string): string {
  const plus = epoch.indexOf('+');
  const base = plus < 0 ? epoch : epoch.slice(0, plus);
  const n = plus < 0 ? 0 : Number(epoch.slice(plus + 1)) || 0;
  return `${base}+${String(n + 1).padStart(APP_COUNTER_DIGITS, '0')}`;
}

/** Tag name → the tag epoch an entry's load started after. */
export type TagEpochs = readonly (readonly [tag: string, epoch: string])[];

interface TagState {
  epoch: string;
  epochExpiresAt: number;
  /** key → when its membership lapses (Infinity: never). */
  members: Map<string, number>;
  /** Members taken by invalidations and not yet processed, oldest first (each at its change's version). */
  batches: { version: string; keys: Map<string, number> }[];
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
        state = { epoch: '', epochExpiresAt: 0, members: new Map(), batches: [] };
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
   * Step 1 of a tag invalidation at `version`: fenced when the tag's epoch is as new; otherwise the
   * epoch moves on and the members become one pending batch at `version` (an O(1) move, however many
   * there are). `version` '' is an app-side invalidation without a version: it takes
   * {@link nextAppVersion} of the epoch. Answers whether it applied and the version it used.
   */
  bump(
    tag: string,
    version: string,
    tombstoneTtlMs: number,
    now: number,
  ): { applied: boolean; version: string } {
    this.#maybeSweep(now);
    let state = this.#tags.get(tag);
    const current = state === undefined ? '' : this.#epoch(state, now);
    const v = version === '' ? nextAppVersion(current) : version;
    if (current !== '' && current >= v) return { applied: false, version: v };
    if (state === undefined) {
      state = { epoch: '', epochExpiresAt: 0, members: new Map(), batches: [] };
      this.#tags.set(tag, state);
    }
    state.epoch = v;
    state.epochExpiresAt = now + Math.max(1, tombstoneTtlMs);
    if (state.members.size > 0) {
      state.batches.push({ version: v, keys: state.members });
      state.members = new Map();
    }
    return { applied: true, version: v };
  }

  /**
   * Steps 2 and 3 for at most `limit` pending keys of the tag's oldest batch: each key not already
   * current with the batch's version is fenced at it for `tombstoneTtlMs` and returned (the caller
   * removes or marks it); every key looked at leaves the batch. `soft`: they join the members again
   * (their values stay, and a later hard change must reach them). `more`: keys are still pending.
   */
  page(
    tag: string,
    limit: number,
    tombstoneTtlMs: number,
    now: number,
    soft = false,
  ): { version: string; keys: string[]; more: boolean } {
    const state = this.#tags.get(tag);
    const batch = state?.batches[0];
    if (state === undefined || batch === undefined) return { version: '', keys: [], more: false };
    const out: string[] = [];
    let taken = 0;
    for (const [key, until] of batch.keys) {
      if (taken >= limit) break;
      taken++;
      batch.keys.delete(key);
      if (until < now) continue;
      if (soft) {
        const held = state.members.get(key);
        if (held === undefined || held < until) state.members.set(key, until);
      }
      let entry = this.#entry(key, now);
      const seen = entry?.versions.get(tag);
      if (seen !== undefined && seen >= batch.version) continue;
      if (entry === undefined) {
        entry = { versions: new Map(), expiresAt: now + tombstoneTtlMs };
        this.#entries.set(key, entry);
      } else if (entry.expiresAt < now + tombstoneTtlMs) entry.expiresAt = now + tombstoneTtlMs;
      entry.versions.set(tag, batch.version);
      out.push(key);
    }
    if (batch.keys.size === 0) state.batches.shift();
    return { version: batch.version, keys: out, more: state.batches.length > 0 };
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
      for (const batch of state.batches)
        for (const [key, until] of batch.keys) if (until < now) batch.keys.delete(key);
      state.batches = state.batches.filter((b) => b.keys.size > 0);
      if (state.members.size === 0 && state.batches.length === 0 && this.#epoch(state, now) === '')
        this.#tags.delete(tag);
    }
  }
}
