/**
 * Client tracking (server-assisted client-side caching), as Valkey defines it: the server remembers
 * which client read which key and pushes an invalidation when the key changes.
 *
 * - Default mode: keys read by a tracking client's read-only commands go into the tracking table
 *   (key → client ids), bounded by `tracking-table-max-keys` (the oldest keys are invalidated to
 *   make room). A change of the key sends one invalidation to each client and forgets the key.
 * - BCAST: no table; every change of a key under one of the client's prefixes is sent, batched per
 *   prefix at the end of the event-loop turn (Valkey batches in beforeSleep), keys in byte order.
 * - OPTIN/OPTOUT (`CLIENT CACHING yes|no` for the next command), NOLOOP (no invalidations for the
 *   client's own changes), REDIRECT (to a RESP3 client as a push, to a RESP2 client in subscribed
 *   mode as a `__redis__:invalidate` message).
 *
 * Changes arrive through the engine's listeners (write, invalidate, delete, expire, evict, ttl,
 * flush), so every write path (protocol commands, CACHE.*, the in-process API, expiry, eviction)
 * invalidates without per-command code. The listeners are registered only while at least one
 * client tracks: with none, a write pays nothing.
 */
import type { Engine } from '../engine.ts';
import type { EngineEvent } from '../listeners.ts';
import type { ClientState } from './command-context.ts';
import { PushMessage } from './push-message.ts';

/** A client's tracking options (Valkey's CLIENT_TRACKING_* flags). */
export interface ClientTracking {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** `CLIENT CACHING yes|no` given for the next command. */
  caching: boolean;
  /** Client id receiving the invalidations; 0 = the client itself. */
  redirect: number;
  /** The redirect client went away. */
  brokenRedirect: boolean;
  /** BCAST prefixes ('' = every key). */
  readonly prefixes: Set<string>;
}

/** Valkey's default `tracking-table-max-keys`. */
export const DEFAULT_TRACKING_TABLE_MAX_KEYS = 1_000_000;

/** The invalidation of `keys` (null = every key, after a flush): a push in RESP3, a message in RESP2. */
function invalidation(keys: string[] | null): PushMessage {
  return new PushMessage((w) => {
    if (w.resp === 3) {
      w.push(2);
      w.bulk('invalidate');
    } else {
      w.push(3);
      w.bulk('message');
      w.bulk('__redis__:invalidate');
    }
    if (keys === null) w.nil();
    else {
      w.array(keys.length);
      for (const k of keys) w.bulk(k);
    }
  });
}

interface Broadcast {
  readonly clients: Set<ClientState>;
  /** Changed keys since the last batch → the client that changed it (null: none or several). */
  keys: Map<string, ClientState | null>;
}

/** The server's tracking state. */
export class Tracking {
  /** Most keys in the tracking table (`tracking-table-max-keys`); 0 = no limit. */
  maxKeys = DEFAULT_TRACKING_TABLE_MAX_KEYS;
  /** key → ids of the clients that may cache it. */
  readonly table = new Map<string, Set<number>>();
  /** BCAST prefix → its clients and pending keys. */
  readonly prefixes = new Map<string, Broadcast>();
  /** Clients with tracking on, in the order they enabled it. */
  readonly #tracked = new Set<ClientState>();
  readonly #engine: Engine;
  readonly #lookup: (id: number) => ClientState | undefined;
  readonly #current: () => ClientState | null;
  #unsubscribe: (() => void)[] = [];
  #batchScheduled = false;

  /** `lookup` finds a connected client by id; `current` is the client running a command, if any. */
  constructor(
    engine: Engine,
    lookup: (id: number) => ClientState | undefined,
    current: () => ClientState | null,
  ) {
    this.#engine = engine;
    this.#lookup = lookup;
    this.#current = current;
  }

  /** CLIENT TRACKING on: sets the options (checked by the caller) and adds BCAST prefixes. */
  enable(
    client: ClientState,
    redirect: number,
    options: { bcast: boolean; optin: boolean; optout: boolean; noloop: boolean },
    prefixes: string[],
  ): void {
    if (client.tracking === null) {
      client.tracking = {
        bcast: false,
        optin: false,
        optout: false,
        noloop: false,
        caching: false,
        redirect: 0,
        brokenRedirect: false,
        prefixes: new Set(),
      };
      this.#tracked.add(client);
      if (this.#tracked.size === 1) this.#listen();
    }
    const t = client.tracking;
    t.brokenRedirect = false;
    t.redirect = redirect;
    t.optin = options.optin;
    t.optout = options.optout;
    t.noloop = options.noloop;
    t.bcast = options.bcast;
    if (options.bcast) {
      for (const p of prefixes.length === 0 ? [''] : prefixes) {
        if (t.prefixes.has(p)) continue;
        t.prefixes.add(p);
        let b = this.prefixes.get(p);
        if (b === undefined) {
          b = { clients: new Set(), keys: new Map() };
          this.prefixes.set(p, b);
        }
        b.clients.add(client);
      }
    }
  }

  /** CLIENT TRACKING off (also on RESET and when the client leaves). */
  disable(client: ClientState): void {
    const t = client.tracking;
    if (t === null) return;
    for (const p of t.prefixes) {
      const b = this.prefixes.get(p);
      if (b === undefined) continue;
      b.clients.delete(client);
      if (b.clients.size === 0) this.prefixes.delete(p);
    }
    client.tracking = null;
    this.#tracked.delete(client);
    if (this.#tracked.size === 0) {
      for (const off of this.#unsubscribe) off();
      this.#unsubscribe = [];
      this.table.clear();
    }
  }

  /** Remembers the keys a tracking client's read-only command read (default mode, OPTIN/OPTOUT rules). */
  remember(client: ClientState, keys: string[]): void {
    const t = client.tracking;
    if (t === null || t.bcast || (t.optin && !t.caching) || (t.optout && t.caching)) return;
    const id = client.id;
    for (const key of keys) {
      let ids = this.table.get(key);
      if (ids === undefined) {
        ids = new Set();
        this.table.set(key, ids);
      }
      ids.add(id);
    }
    if (this.maxKeys > 0) {
      // Over the limit: invalidate the oldest keys (Valkey picks random ones) so clients drop them.
      for (const key of this.table.keys()) {
        if (this.table.size <= this.maxKeys) break;
        this.#invalidate(key, false);
      }
    }
  }

  /** Sends the invalidation of `keys` (null = all) to `target`, through its redirect if any. */
  send(target: ClientState, message: PushMessage): void {
    const t = target.tracking;
    if (t === null) return;
    if (t.redirect !== 0) {
      const redir = this.#lookup(t.redirect);
      if (redir === undefined) {
        t.brokenRedirect = true;
        if (target.resp === 3) {
          const id = t.redirect;
          target.push(
            new PushMessage((w) => {
              w.push(2);
              w.bulk('tracking-redir-broken');
              w.int(id);
            }),
          );
        }
        return;
      }
      if (redir.resp === 3 || redir.pubsub !== null) redir.push(message);
      return;
    }
    if (target.resp === 3) target.push(message);
  }

  /** Key–client pairs in the tracking table (INFO `tracking_total_items`). */
  totalItems(): number {
    let n = 0;
    for (const ids of this.table.values()) n += ids.size;
    return n;
  }

  /** Number of clients with tracking on (INFO `tracking_clients`). */
  get clients(): number {
    return this.#tracked.size;
  }

  #listen(): void {
    const engine = this.#engine;
    const onKey = (e: EngineEvent): void => this.#invalidate(e.key, true);
    for (const type of ['write', 'invalidate', 'delete', 'expire', 'evict', 'ttl'] as const)
      this.#unsubscribe.push(engine.core.listeners.on(type, onKey));
    this.#unsubscribe.push(engine.on('flush', () => this.#flushed()));
  }

  /** A key changed: queue it for BCAST prefixes, and invalidate it for the clients that read it. */
  #invalidate(key: string, bcast: boolean): void {
    const current = this.#current();
    if (bcast && this.prefixes.size !== 0) {
      for (const [prefix, b] of this.prefixes) {
        if (!key.startsWith(prefix)) continue;
        b.keys.set(key, current);
        if (!this.#batchScheduled) {
          this.#batchScheduled = true;
          queueMicrotask(() => this.#broadcast());
        }
      }
    }
    const ids = this.table.get(key);
    if (ids === undefined) return;
    this.table.delete(key);
    let message: PushMessage | undefined;
    for (const id of ids) {
      const target = this.#lookup(id);
      const t = target?.tracking;
      if (target === undefined || t === null || t === undefined || t.bcast) continue;
      if (t.noloop && target === current) continue;
      message ??= invalidation([key]);
      this.send(target, message);
    }
  }

  /** FLUSHDB/FLUSHALL: every tracking client is told to drop everything; the table is emptied. */
  #flushed(): void {
    this.table.clear();
    const message = invalidation(null);
    for (const b of this.prefixes.values()) b.keys.clear();
    for (const c of this.#tracked) this.send(c, message);
  }

  /** Sends each BCAST prefix's batch of changed keys (byte order) to its clients. */
  #broadcast(): void {
    this.#batchScheduled = false;
    // Prefixes in byte order, as Valkey walks its prefix radix tree.
    for (const prefix of [...this.prefixes.keys()].sort()) {
      const b = this.prefixes.get(prefix)!;
      if (b.keys.size === 0) continue;
      const pending = b.keys;
      b.keys = new Map();
      const all = [...pending.keys()].sort();
      let common: PushMessage | undefined;
      for (const c of b.clients) {
        if (c.tracking?.noloop) {
          const mine = all.filter((k) => pending.get(k) !== c);
          if (mine.length > 0) this.send(c, invalidation(mine));
        } else {
          common ??= invalidation(all);
          this.send(c, common);
        }
      }
    }
  }
}
