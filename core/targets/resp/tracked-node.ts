/**
 * Server-assisted client-side caching against one server (Valkey or the engine server), in RESP2:
 * a reader connection with `CLIENT TRACKING ON REDIRECT <id>`, where `<id>` is a second connection
 * subscribed to `__redis__:invalidate`. iovalkey speaks RESP2 only, so there are no RESP3 pushes.
 *
 * Invariants: either connection closing reports `down` at once (before the reconnected reader can
 * deliver a reply), and `up` is reported only after, on the current connections, the channel is
 * subscribed and the reader's tracking redirects to it (a reconnected channel has a new client id,
 * so tracking is switched on again every time). One establish loop runs at a time.
 *
 * A connection that dies without closing (half-open: a dropped NAT entry, a frozen peer) would lose
 * invalidations silently, so while tracking is up the channel is PINGed every
 * `TRACKING_HEARTBEAT.intervalMs`; no answer within `timeoutMs` drops and reconnects it, which
 * reports `down` like any close. That bounds how long a lost channel can go unnoticed.
 */
import type { Valkey } from 'iovalkey';
import type { StoredEntry } from '../../client/fill-lease-store.ts';
import type { TrackingSink } from '../../client/near-cache/tracker.ts';
import { probedRead, type StaleProbe } from './stale-probe.ts';

/** The channel Valkey publishes RESP2 tracking invalidations on. */
export const INVALIDATE_CHANNEL = '__redis__:invalidate';

/** Opens one connection to the node, with the given client name (it must reconnect by itself). */
export type OpenNodeConnection = (name: string) => Valkey;

const BACKOFF_MS: readonly [number, number] = [25, 1000];

/** The invalidation channel's heartbeat (see module comment). */
export const TRACKING_HEARTBEAT = { intervalMs: 2000, timeoutMs: 5000 } as const;

function keysOf(payload: unknown): string[] | null {
  if (payload === null || payload === undefined) return null;
  if (Array.isArray(payload)) return payload.map((k) => String(k));
  return [String(payload)];
}

/** One tracked server: the reader and its invalidation channel. */
export class TrackedNode {
  /** The tracked reader connection. */
  readonly reader: Valkey;
  /** The connection subscribed to the invalidation channel. */
  readonly channel: Valkey;
  readonly #sink: TrackingSink;
  #gen = 0;
  #up = false;
  #closed = false;
  #running = false;
  #again = false;
  #channelSession = 0;
  #channelId: string | undefined;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #beatTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(open: OpenNodeConnection, sink: TrackingSink) {
    this.#sink = sink;
    this.reader = open('cdc-cache-near-reader');
    this.channel = open('cdc-cache-near-invalidations');
    // Errors surface as 'close' and failed commands; an unheard 'error' event would be printed.
    this.reader.on('error', () => {});
    this.channel.on('error', () => {});
    this.reader.on('close', () => this.#lost('the tracked reader connection closed'));
    this.channel.on('close', () => {
      this.#channelSession++;
      this.#channelId = undefined;
      this.#lost('the invalidation connection closed');
    });
    this.channel.on('messageBuffer', (name: Buffer, payload: unknown) => {
      if (name.toString() === INVALIDATE_CHANNEL) this.#sink.invalidate(keysOf(payload));
    });
    this.#heartbeat = setInterval(() => this.#beat(), TRACKING_HEARTBEAT.intervalMs);
    this.#heartbeat.unref();
  }

  #beat(): void {
    if (!this.#up || this.#beatTimer !== undefined) return;
    const channel = this.channel;
    this.#beatTimer = setTimeout(() => {
      this.#beatTimer = undefined;
      if (!this.#closed) channel.disconnect(true); // 'close' follows: down, then re-established
    }, TRACKING_HEARTBEAT.timeoutMs);
    channel.ping().then(
      () => this.#endBeat(),
      () => this.#endBeat(),
    );
  }

  #endBeat(): void {
    clearTimeout(this.#beatTimer);
    this.#beatTimer = undefined;
  }

  /** True while tracking is established on the current connections. */
  get isUp(): boolean {
    return this.#up;
  }

  /** Starts establishing tracking. */
  start(): void {
    void this.#establish();
  }

  /** The value and remaining TTL of `key` (and its soft mark, with `probe`), read on the tracked reader. */
  async read(key: string, probe?: StaleProbe): Promise<StoredEntry | null> {
    return probedRead(this.reader, key, probe);
  }

  /** Closes both connections (no more reports). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#up = false;
    clearInterval(this.#heartbeat);
    this.#endBeat();
    await Promise.all(
      [this.reader, this.channel].map((c) =>
        c.quit().then(
          () => {},
          () => c.disconnect(),
        ),
      ),
    );
  }

  #lost(reason: string): void {
    this.#gen++;
    this.#endBeat();
    if (this.#closed) return;
    this.#up = false;
    this.#sink.down(reason);
    void this.#establish();
  }

  async #establish(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    let attempt = 0;
    try {
      do {
        this.#again = false;
        const gen = this.#gen;
        try {
          let id = this.#channelId;
          if (id === undefined) {
            const session = this.#channelSession;
            id = String(await this.channel.client('ID'));
            await this.channel.subscribe(INVALIDATE_CHANNEL);
            if (session !== this.#channelSession) throw new Error('invalidation connection replaced');
            this.#channelId = id;
          }
          await this.reader.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id);
          if (gen === this.#gen && !this.#closed) {
            attempt = 0;
            this.#up = true;
            this.#sink.up();
          } else {
            this.#again = true;
          }
        } catch (error) {
          if (this.#closed) return;
          // Say why (an ACL without CLIENT or SUBSCRIBE on the channel, say): reads bypass meanwhile.
          this.#sink.down(`cannot switch tracking on: ${(error as Error).message ?? String(error)}`);
          const [min, max] = BACKOFF_MS;
          await new Promise((r) => setTimeout(r, Math.min(max, min * 2 ** attempt++)));
          this.#again = true;
        }
      } while (this.#again && !this.#closed);
    } finally {
      this.#running = false;
    }
  }
}
