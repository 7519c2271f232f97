/**
 * Keyspace notifications (`notify-keyspace-events`), with Valkey's flag letters: K (keyspace
 * channel `__keyspace@0__:<key>`), E (keyevent channel `__keyevent@0__:<event>`), and the classes
 * g (generic: del, expire, persist, rename_from, rename_to, invalidate), $ (string), l s h z
 * (lists, sets, hashes, sorted sets), x (expired), e (evicted), t (stream), d (module), m (key
 * miss), n (new key), A (= g$lshzxetd).
 *
 * Events come from the engine's listeners, so every write path notifies, including CACHE.* and the
 * in-process API; the event name follows the command that made the change (`set`, `incrby`,
 * `hset`, …, as Valkey names them; commands this table does not know are named after themselves).
 * A change outside any command is `set` (a write), `del`, `expire`/`persist` (a TTL change) or
 * `invalidate` (a CDC invalidation: class g). Not emitted: `new` (n) and `keymiss` (m) (the
 * letters are accepted and echoed). The listeners are registered only while K or E is set with a
 * class, so with notifications off a write pays nothing.
 */
import type { Engine } from '../engine.ts';
import type { EngineEvent } from '../listeners.ts';
import type { ClientState } from './command-context.ts';
import type { PubSub } from './pubsub.ts';

const ORDER = 'g$lshzxetd';
/** Valkey's `A`: every class but key-miss and new-key. */
const ALL = new Set(ORDER);

/** Parses a flag string; null when it holds a letter Valkey refuses. */
export function parseKeyspaceEventFlags(value: string): Set<string> | null {
  const out = new Set<string>();
  for (const c of value) {
    if (c === 'A') for (const x of ALL) out.add(x);
    else if ('g$lshzxeKEtmdn'.includes(c)) out.add(c);
    else return null;
  }
  return out;
}

/** The CONFIG GET text of a flag set (Valkey's: `A` or the classes then `n`, then K E m). */
export function formatKeyspaceEventFlags(flags: Set<string>): string {
  let s = '';
  if ([...ALL].every((c) => flags.has(c))) s = 'A';
  else for (const c of `${ORDER}n`) if (flags.has(c)) s += c;
  for (const c of 'KEm') if (flags.has(c)) s += c;
  return s;
}

/** Event name and class of a change made by command `cmd` (lower-case name). */
const WRITE_EVENTS: Record<string, [string, string]> = {
  set: ['set', '$'],
  setnx: ['set', '$'],
  setex: ['set', '$'],
  psetex: ['set', '$'],
  getset: ['set', '$'],
  mset: ['set', '$'],
  msetnx: ['set', '$'],
  append: ['append', '$'],
  incr: ['incrby', '$'],
  decr: ['incrby', '$'],
  incrby: ['incrby', '$'],
  decrby: ['incrby', '$'],
  incrbyfloat: ['incrbyfloat', '$'],
  setrange: ['setrange', '$'],
  setbit: ['setbit', '$'],
  hset: ['hset', 'h'],
  hmset: ['hset', 'h'],
  hsetnx: ['hset', 'h'],
  hincrby: ['hincrby', 'h'],
  hincrbyfloat: ['hincrbyfloat', 'h'],
  rename: ['rename_to', 'g'],
  renamenx: ['rename_to', 'g'],
  copy: ['copy_to', 'g'],
  restore: ['restore', 'g'],
  'cache.refresh': ['set', '$'],
  'cache.fill': ['set', '$'],
  'cache.lock': ['set', '$'],
};

/** Commands whose deletion of a key is their own event (`del`), not "<cmd> then del". */
const DELETING = new Set([
  'del',
  'unlink',
  'getdel',
  'expire',
  'pexpire',
  'expireat',
  'pexpireat',
  'getex',
  'set',
  'flushdb',
  'flushall',
  'cache.unlock',
  'cache.release',
  'restore',
]);

/** Class of a command this module has no entry for, from Valkey's naming of the type families. */
function classOf(cmd: string): string {
  const c = cmd[0];
  if (c === 'h') return 'h';
  if (c === 'z' || cmd.startsWith('bz')) return 'z';
  if (c === 'l' || c === 'r' || cmd.startsWith('bl') || cmd.startsWith('br')) return 'l';
  if (c === 's') return 's';
  if (c === 'x') return 't';
  if (cmd.startsWith('bf.')) return 'd';
  return '$';
}

/** The server's notify-keyspace-events setting and its delivery. */
export class KeyspaceEvents {
  flags = new Set<string>();
  readonly #engine: Engine;
  readonly #pubsub: PubSub;
  readonly #current: () => { client: ClientState | null; args: string[] | null };
  #off: (() => void)[] = [];

  constructor(
    engine: Engine,
    pubsub: PubSub,
    current: () => { client: ClientState | null; args: string[] | null },
  ) {
    this.#engine = engine;
    this.#pubsub = pubsub;
    this.#current = current;
  }

  /** Applies a new flag set (CONFIG SET notify-keyspace-events). */
  configure(flags: Set<string>): void {
    this.flags = flags;
    const on = (flags.has('K') || flags.has('E')) && [...flags].some((c) => ORDER.includes(c));
    if (on && this.#off.length === 0) {
      const handle = (e: EngineEvent): void => this.#onEvent(e);
      for (const type of ['write', 'invalidate', 'delete', 'expire', 'evict', 'ttl'] as const)
        this.#off.push(this.#engine.core.listeners.on(type, handle));
    } else if (!on && this.#off.length > 0) {
      for (const off of this.#off) off();
      this.#off = [];
    }
  }

  /** Publishes one event for `key` if its class is enabled (Valkey's notifyKeyspaceEvent). */
  notify(cls: string, event: string, key: string): void {
    if (!this.flags.has(cls)) return;
    if (this.flags.has('K')) this.#pubsub.publish(`__keyspace@0__:${key}`, event);
    if (this.flags.has('E')) this.#pubsub.publish(`__keyevent@0__:${event}`, key);
  }

  #onEvent(e: EngineEvent): void {
    const { client, args } = this.#current();
    const cmd = client === null ? '' : client.lastCommand.toLowerCase();
    switch (e.type) {
      case 'write': {
        if (cmd === '' || cmd.startsWith('cache.')) {
          this.notify('$', 'set', e.key);
          return;
        }
        const known = WRITE_EVENTS[cmd];
        const [event, cls] = known ?? [cmd, classOf(cmd)];
        this.notify(cls, event, e.key);
        // SET … EX/PX/EXAT/PXAT, SETEX and PSETEX also announce the expiry they set.
        if (args !== null && (cmd === 'setex' || cmd === 'psetex' || (cmd === 'set' && hasExpiry(args))))
          this.notify('g', 'expire', e.key);
        return;
      }
      case 'delete':
        if (cmd === 'rename' || cmd === 'renamenx') {
          this.notify('g', 'rename_from', e.key);
          return;
        }
        if (cmd !== '' && !cmd.startsWith('cache.') && !DELETING.has(cmd)) {
          // HDEL of the last field (and the like): the command's own event, then del.
          const known = WRITE_EVENTS[cmd];
          this.notify(known?.[1] ?? classOf(cmd), known?.[0] ?? cmd, e.key);
        }
        {
          this.notify('g', 'del', e.key);
          return;
        }
      case 'ttl': {
        const at = e.expireAt;
        this.notify('g', at === 0 ? 'persist' : 'expire', e.key);
        return;
      }
      case 'invalidate': {
        this.notify('g', 'invalidate', e.key);
        return;
      }
      case 'expire': {
        this.notify('x', 'expired', e.key);
        return;
      }
      case 'evict': {
        this.notify('e', 'evicted', e.key);
        return;
      }
      default:
        return;
    }
  }
}

function hasExpiry(args: string[]): boolean {
  for (let i = 3; i < args.length; i++) {
    const o = args[i]!.toLowerCase();
    if (o === 'ex' || o === 'px' || o === 'exat' || o === 'pxat') return true;
  }
  return false;
}
