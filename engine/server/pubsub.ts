/**
 * Pub/Sub: channels and patterns with their subscribers, and PUBLISH fan-out. A message is encoded
 * once per protocol version (push-message.ts) and appended to each subscriber's reply buffer; the
 * subscriber's output-buffer limit is the `pubsub` class of client-output-buffer-limit, so a
 * subscriber that stops reading is disconnected and everything it held is dropped.
 *
 * Invariants: `client.pubsub` is null exactly when the client has no subscription (it is then not
 * in subscribed mode); every client in `channels`/`patterns` has the name in its own sets; a client
 * leaving (close, RESET) is removed from both.
 */
import { globMatch } from '../glob.ts';
import type { ClientState } from './command-context.ts';
import { PushMessage } from './push-message.ts';

/** One client's subscriptions. */
export interface ClientPubSub {
  readonly channels: Set<string>;
  readonly patterns: Set<string>;
}

/** Number of channels plus patterns the client is subscribed to. */
export function subscriptionCount(client: ClientState): number {
  const p = client.pubsub;
  return p === null ? 0 : p.channels.size + p.patterns.size;
}

/** The server's channels and patterns. */
export class PubSub {
  /** channel → subscribers. */
  readonly channels = new Map<string, Set<ClientState>>();
  /** pattern → subscribers. */
  readonly patterns = new Map<string, Set<ClientState>>();

  /** Subscribes `client` to a channel (`pattern` false) or pattern; false when it already was. */
  subscribe(client: ClientState, name: string, pattern: boolean): boolean {
    client.pubsub ??= { channels: new Set(), patterns: new Set() };
    const own = pattern ? client.pubsub.patterns : client.pubsub.channels;
    if (own.has(name)) return false;
    own.add(name);
    const table = pattern ? this.patterns : this.channels;
    let set = table.get(name);
    if (set === undefined) {
      set = new Set();
      table.set(name, set);
    }
    set.add(client);
    return true;
  }

  /** Unsubscribes `client` from a channel or pattern; false when it was not subscribed. */
  unsubscribe(client: ClientState, name: string, pattern: boolean): boolean {
    const p = client.pubsub;
    if (p === null) return false;
    const own = pattern ? p.patterns : p.channels;
    if (!own.delete(name)) return false;
    const table = pattern ? this.patterns : this.channels;
    const set = table.get(name);
    if (set !== undefined) {
      set.delete(client);
      if (set.size === 0) table.delete(name);
    }
    if (p.channels.size === 0 && p.patterns.size === 0) client.pubsub = null;
    return true;
  }

  /** Drops every subscription of `client` (it left, or sent RESET). */
  removeClient(client: ClientState): void {
    const p = client.pubsub;
    if (p === null) return;
    for (const ch of [...p.channels]) this.unsubscribe(client, ch, false);
    for (const pat of [...p.patterns]) this.unsubscribe(client, pat, true);
    client.pubsub = null;
  }

  /**
   * Delivers `message` on `channel` to its subscribers, then to the subscribers of every matching
   * pattern (as Valkey does); returns the number of deliveries (PUBLISH's reply).
   */
  publish(channel: string, message: string): number {
    let n = 0;
    const subs = this.channels.get(channel);
    if (subs !== undefined) {
      const push = new PushMessage((w) => {
        w.push(3);
        w.bulk('message');
        w.bulk(channel);
        w.bulk(message);
      });
      for (const c of subs) {
        c.push(push);
        n++;
      }
    }
    if (this.patterns.size === 0) return n;
    for (const [pattern, clients] of this.patterns) {
      if (!globMatch(pattern, channel)) continue;
      const push = new PushMessage((w) => {
        w.push(4);
        w.bulk('pmessage');
        w.bulk(pattern);
        w.bulk(channel);
        w.bulk(message);
      });
      for (const c of clients) {
        c.push(push);
        n++;
      }
    }
    return n;
  }
}
