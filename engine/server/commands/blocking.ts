/**
 * Blocking pops: BLPOP BRPOP BLMOVE BRPOPLPUSH BZPOPMIN BZPOPMAX, woken without polling.
 *
 * A command that finds every key empty parks the client (its handler returns a Promise, so the
 * connection holds its later commands) in this engine's registry, keyed by the keys it waits on.
 * The registry learns of writes through the engine's listeners (registered only while a client is
 * blocked) and marks the key ready; the connection calls {@link serveReadyClients} after each
 * command, as Valkey does, so a push inside MULTI is seen only after EXEC and a blocked client never
 * observes half a transaction. Clients blocked on a key are served first come, first served. A
 * timeout replies a null array; a client that disconnects is removed at once; inside MULTI the
 * commands do not block (null array when empty).
 */
import type { EngineState } from '../../engine-state.ts';
import { Kind } from '../../keyspace.ts';
import type { EngineEvent } from '../../listeners.ts';
import type { ClientState, CommandContext, CommandSpec } from '../command-context.ts';
import { command, Err, ReplyError } from '../command-context.ts';
import { findCollection } from './collections.ts';
import { moveList, popList } from './lists.ts';
import { isExecuting } from './transactions.ts';
import { writeScore } from './zset-format.ts';
import { popZSet } from './zsets.ts';

/** One parked client. */
interface Blocked {
  readonly client: ClientState;
  readonly keys: string[];
  /** Tries to serve from `key`; true when it replied. */
  readonly attempt: (key: string) => boolean;
  /** Ends the wait (served, timed out, disconnected). */
  readonly finish: () => void;
}

class BlockRegistry {
  readonly byKey = new Map<string, Blocked[]>();
  readonly byClient = new Map<ClientState, Blocked>();
  readonly ready = new Set<string>();
  #off: (() => void) | null = null;
  readonly #core: EngineState;

  constructor(core: EngineState) {
    this.#core = core;
  }

  add(b: Blocked): void {
    this.byClient.set(b.client, b);
    for (const key of b.keys) {
      let list = this.byKey.get(key);
      if (list === undefined) {
        list = [];
        this.byKey.set(key, list);
      }
      list.push(b);
    }
    if (this.#off === null)
      this.#off = this.#core.listeners.on('write', (e: EngineEvent) => {
        if (this.byKey.has(e.key)) {
          this.ready.add(e.key);
          // Connections serve after each command; a write from elsewhere (a settled hook) is served
          // when the current turn of the event loop ends.
          if (pending.size === 0) queueMicrotask(serveReadyClients);
          pending.add(this);
        }
      });
  }

  remove(b: Blocked): void {
    if (this.byClient.get(b.client) !== b) return;
    this.byClient.delete(b.client);
    for (const key of b.keys) {
      const list = this.byKey.get(key);
      if (list === undefined) continue;
      const at = list.indexOf(b);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) this.byKey.delete(key);
    }
    if (this.byClient.size === 0 && this.#off !== null) {
      this.#off();
      this.#off = null;
      this.ready.clear();
    }
  }

  serve(): void {
    while (this.ready.size > 0) {
      const key = this.ready.values().next().value!;
      this.ready.delete(key);
      const list = this.byKey.get(key);
      if (list === undefined) continue;
      for (const b of [...list]) {
        if (!b.attempt(key)) break;
        this.remove(b);
        b.finish();
      }
    }
  }
}

const registries = new WeakMap<EngineState, BlockRegistry>();
/** Registries with ready keys, drained by {@link serveReadyClients}. */
const pending = new Set<BlockRegistry>();

function registry(core: EngineState): BlockRegistry {
  let r = registries.get(core);
  if (r === undefined) {
    r = new BlockRegistry(core);
    registries.set(core, r);
  }
  return r;
}

/** Serves clients blocked on keys written by the last command (called by the connection after each command). */
export function serveReadyClients(): void {
  if (pending.size === 0) return;
  for (const r of [...pending]) {
    pending.delete(r);
    r.serve();
  }
}

/** Removes a disconnected client from any wait. */
export function unblockClient(client: ClientState, core: EngineState): void {
  const r = registries.get(core);
  const b = r?.byClient.get(client);
  if (b === undefined) return;
  r!.remove(b);
  b.finish();
}

/** Number of clients blocked on keys (INFO blocked_clients). */
export function blockedClients(core: EngineState): number {
  return registries.get(core)?.byClient.size ?? 0;
}

/** Parses a blocking timeout in seconds (float) to milliseconds, 0 = forever. */
export function timeoutArg(s: string): number {
  const n = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : Number.NaN;
  if (Number.isNaN(n)) throw new ReplyError('ERR timeout is not a float or out of range');
  if (n < 0) throw new ReplyError('ERR timeout is negative');
  const ms = Math.trunc(n * 1000);
  if (ms > 9.2e18) throw new ReplyError('ERR timeout is out of range');
  return ms;
}

/**
 * Serves at once when it can, else parks the client until `serve` succeeds for one of `keys` or the
 * timeout passes. `serve(ctx, key)` replies and returns true, or returns false (key empty).
 */
export function block(
  ctx: CommandContext,
  keys: string[],
  timeoutMs: number,
  serve: (ctx: CommandContext, key: string) => boolean,
): void | Promise<void> {
  for (const key of keys) if (serve(ctx, key)) return;
  if (ctx.client.tx !== null || isExecuting()) {
    ctx.w.nilArray();
    return;
  }
  const r = registry(ctx.core);
  return new Promise<void>((resolve) => {
    let cancelTimer = (): void => {};
    const b: Blocked = {
      client: ctx.client,
      keys,
      attempt: (key) => {
        try {
          return serve({ ...ctx, now: ctx.core.clock.now() }, key);
        } catch {
          // A key that changed type keeps the client blocked, as in Valkey.
          return false;
        }
      },
      finish: () => {
        cancelTimer();
        resolve();
      },
    };
    if (timeoutMs > 0)
      cancelTimer = ctx.core.clock.setTimer(() => {
        r.remove(b);
        ctx.w.nilArray();
        b.finish();
      }, timeoutMs);
    r.add(b);
  });
}

function bpop(left: boolean) {
  return (ctx: CommandContext, a: string[]): void | Promise<void> => {
    const timeout = timeoutArg(a[a.length - 1]!);
    const keys = a.slice(1, -1);
    return block(ctx, keys, timeout, (c, key) => {
      if (findCollection(c, key, Kind.List) < 0) return false;
      const out = popList(c, key, left, 1)!;
      c.w.array(2);
      c.w.bulk(key);
      c.w.bulk(out[0]!);
      return true;
    });
  };
}

function side(s: string): boolean {
  const l = s.toLowerCase();
  if (l !== 'left' && l !== 'right') throw new ReplyError(Err.syntax);
  return l === 'left';
}

function bmove(
  ctx: CommandContext,
  src: string,
  dst: string,
  fromLeft: boolean,
  toLeft: boolean,
  timeout: number,
) {
  return block(ctx, [src], timeout, (c) => {
    const v = moveList(c, src, dst, fromLeft, toLeft);
    if (v === null) return false;
    c.w.bulk(v);
    return true;
  });
}

function blmove(ctx: CommandContext, a: string[]): void | Promise<void> {
  const fromLeft = side(a[3]!);
  const toLeft = side(a[4]!);
  return bmove(ctx, a[1]!, a[2]!, fromLeft, toLeft, timeoutArg(a[5]!));
}

function brpoplpush(ctx: CommandContext, a: string[]): void | Promise<void> {
  return bmove(ctx, a[1]!, a[2]!, false, true, timeoutArg(a[3]!));
}

function bzpop(max: boolean) {
  return (ctx: CommandContext, a: string[]): void | Promise<void> => {
    const timeout = timeoutArg(a[a.length - 1]!);
    const keys = a.slice(1, -1);
    return block(ctx, keys, timeout, (c, key) => {
      const out = popZSet(c, key, max, 1);
      if (out === null || out.members.length === 0) return false;
      c.w.array(3);
      c.w.bulk(key);
      c.w.bulk(out.members[0]!);
      writeScore(c.w, out.scores[0]!);
      return true;
    });
  };
}

/** The blocking command specs. */
export const blockingCommands: CommandSpec[] = [
  command('blpop', -3, ['write'], [1, -2, 1], bpop(true)),
  command('brpop', -3, ['write'], [1, -2, 1], bpop(false)),
  command('blmove', 6, ['write', 'denyoom'], [1, 2, 1], blmove),
  command('brpoplpush', 4, ['write', 'denyoom'], [1, 2, 1], brpoplpush),
  command('bzpopmin', -3, ['write', 'fast'], [1, -2, 1], bzpop(false)),
  command('bzpopmax', -3, ['write', 'fast'], [1, -2, 1], bzpop(true)),
];
