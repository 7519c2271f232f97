/**
 * Transactions: MULTI EXEC DISCARD WATCH UNWATCH with Valkey's semantics.
 *
 * - Inside MULTI every command except EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is checked
 *   (unknown command, arity, authentication, ACL) and queued with `+QUEUED`; nothing is applied
 *   before EXEC. A command refused while queuing replies its error and makes EXEC reply
 *   `-EXECABORT`. Errors raised while EXEC runs a command (WRONGTYPE, syntax, overflow…) are that
 *   command's element of EXEC's array; the others still apply.
 * - WATCH marks keys; EXEC replies a null array when any watched key changed after WATCH: any write,
 *   delete, TTL change, invalidation, expiry (also a key found expired at EXEC), eviction, flush, from
 *   any client, the CACHE.* family or the in-process API. Changes are learned through the engine's
 *   listeners (listeners.ts), so every write path that notifies listeners is covered, and listeners
 *   are registered only while some client watches a key.
 * - Closing the connection (or RESET) discards the transaction and the watches.
 * - Queued commands run back to back in one turn of the event loop, so no other client's command
 *   interleaves (Valkey's atomicity). The exception is a write to a key under a write-through hook,
 *   whose hook is awaited: the commands after it run when it settled.
 */
import type { EngineState } from '../../engine-state.ts';
import type { EngineEvent, EngineEventType } from '../../listeners.ts';
import { NoPerm, permissionError } from '../acl.ts';
import {
  type ClientState,
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  ReplyError,
} from '../command-context.ts';

/** Runs one command as dispatch does (checks, handler, error reply). */
export type RunCommand = (ctx: CommandContext, args: string[]) => Promise<void> | undefined;

/** Commands that act at once inside MULTI instead of being queued. */
const IMMEDIATE = new Set(['exec', 'discard', 'quit', 'reset']);

/** Commands refused inside MULTI (Valkey's `no-multi` flag). */
const NO_MULTI = new Set(['multi', 'watch']);

/** EXEC refused before it ran: the transaction is discarded with the refusal's reason. */
function execAbort(refusal: string): string {
  return `EXECABORT Transaction discarded because of: ${refusal.replace(/^[A-Z]+ /, '')}`;
}

const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';

/** What one client watches. */
interface Watch {
  readonly keys: Set<string>;
  /** A watched key changed since WATCH: EXEC fails. */
  dirty: boolean;
}

const WATCH_EVENTS: readonly EngineEventType[] = [
  'write',
  'invalidate',
  'delete',
  'expire',
  'evict',
  'ttl',
  'flush',
];

/** The watched keys of one engine, fed by its listeners while anything is watched. */
class WatchRegistry {
  readonly byKey = new Map<string, Set<Watch>>();
  readonly byClient = new WeakMap<ClientState, Watch>();
  #off: (() => void)[] = [];
  readonly #core: EngineState;

  constructor(core: EngineState) {
    this.#core = core;
  }

  watch(client: ClientState, key: string): void {
    let w = this.byClient.get(client);
    if (w === undefined) {
      w = { keys: new Set(), dirty: false };
      this.byClient.set(client, w);
    }
    if (w.keys.has(key)) return;
    // Let an already expired key go now, so its expiry does not count as a change after WATCH.
    this.#core.keyspace.find(key, this.#core.clock.now());
    w.keys.add(key);
    let set = this.byKey.get(key);
    if (set === undefined) {
      set = new Set();
      this.byKey.set(key, set);
    }
    set.add(w);
    if (this.#off.length === 0) {
      const changed = (e: EngineEvent): void => this.#changed(e);
      for (const type of WATCH_EVENTS) this.#off.push(this.#core.listeners.on(type, changed));
    }
  }

  /** Forgets the client's watches; returns whether a watched key changed. */
  unwatch(client: ClientState): boolean {
    const w = this.byClient.get(client);
    if (w === undefined) return false;
    this.byClient.delete(client);
    for (const key of w.keys) {
      const set = this.byKey.get(key);
      if (set === undefined) continue;
      set.delete(w);
      if (set.size === 0) this.byKey.delete(key);
    }
    if (this.byKey.size === 0) {
      for (const off of this.#off) off();
      this.#off = [];
    }
    return w.dirty;
  }

  /** Looks at every watched key of the client, so one that expired since WATCH counts as changed. */
  checkExpired(client: ClientState): void {
    const w = this.byClient.get(client);
    if (w === undefined) return;
    const now = this.#core.clock.now();
    for (const key of w.keys) this.#core.keyspace.find(key, now);
  }

  #changed(e: EngineEvent): void {
    if (e.type === 'flush') {
      // Valkey touches the watched keys that existed when the database was emptied.
      const ks = this.#core.keyspace;
      const now = this.#core.clock.now();
      for (const [key, set] of this.byKey)
        if (ks.findLive(key, now) >= 0) for (const w of set) w.dirty = true;
      return;
    }
    const set = this.byKey.get(e.key);
    if (set !== undefined) for (const w of set) w.dirty = true;
  }
}

const registries = new WeakMap<EngineState, WatchRegistry>();

function registry(core: EngineState): WatchRegistry {
  let r = registries.get(core);
  if (r === undefined) {
    r = new WatchRegistry(core);
    registries.set(core, r);
  }
  return r;
}

/** Drops the client's transaction and watches (connection closed, RESET). */
export function endTransaction(client: ClientState, core: EngineState): void {
  client.tx = null;
  registries.get(core)?.unwatch(client);
}

/**
 * Called by dispatch while the client is in MULTI. Queues the command (or refuses it, marking the
 * transaction aborted) and returns true; returns false for the commands that act at once.
 */
export function queueInMulti(
  table: Map<string, CommandSpec>,
  ctx: CommandContext,
  args: string[],
  unknownCommandError: (args: string[]) => string,
  keysOf: (spec: CommandSpec, args: string[]) => string[],
): boolean {
  const tx = ctx.client.tx!;
  const name = args[0]!;
  const spec = table.get(name) ?? table.get(name.toLowerCase());
  let refusal: string | null = null;
  if (spec === undefined) refusal = unknownCommandError(args);
  else if (!ctx.client.authenticated && !spec.flags.includes('noauth')) refusal = Err.noAuth;
  else if ((spec.arity > 0 && args.length !== spec.arity) || args.length < -spec.arity)
    refusal = Err.arity(spec.name);
  else if (!ctx.client.user.unrestricted && !spec.flags.includes('noauth')) {
    refusal = permissionError(ctx.client.user, spec, spec.name, keysOf(spec, args));
    if (refusal !== null) {
      if (refusal === NoPerm.key) ctx.server.aclDeniedKeys++;
      else ctx.server.aclDeniedCommands++;
    }
  }
  if (refusal === null && NO_MULTI.has(spec!.name)) refusal = 'ERR Command not allowed inside a transaction';
  if (refusal !== null) {
    tx.aborted = true;
    if (spec?.name === 'exec') {
      endTransaction(ctx.client, ctx.core);
      refusal = execAbort(refusal);
    }
    ctx.w.error(refusal);
    return true;
  }
  if (IMMEDIATE.has(spec!.name)) return false;
  tx.queue.push(args);
  for (const a of args) tx.bytes += a.length + 16;
  ctx.w.simple('QUEUED');
  return true;
}

function multi(ctx: CommandContext): void {
  if (ctx.client.tx !== null) throw new ReplyError('ERR MULTI calls can not be nested');
  ctx.client.tx = { queue: [], bytes: 0, aborted: false };
  ctx.w.simple('OK');
}

function discard(ctx: CommandContext): void {
  if (ctx.client.tx === null) throw new ReplyError('ERR DISCARD without MULTI');
  endTransaction(ctx.client, ctx.core);
  ctx.w.simple('OK');
}

function watch(ctx: CommandContext, args: string[]): void {
  if (ctx.client.tx !== null) throw new ReplyError('ERR WATCH inside MULTI is not allowed');
  const r = registry(ctx.core);
  for (let i = 1; i < args.length; i++) r.watch(ctx.client, args[i]!);
  ctx.w.simple('OK');
}

function unwatch(ctx: CommandContext): void {
  registries.get(ctx.core)?.unwatch(ctx.client);
  ctx.w.simple('OK');
}

function exec(run: RunCommand) {
  return (ctx: CommandContext, args: string[]): void | Promise<void> => {
    const tx = ctx.client.tx;
    if (args.length !== 1) {
      // Valkey answers a malformed EXEC with EXECABORT, in or out of MULTI.
      endTransaction(ctx.client, ctx.core);
      throw new ReplyError(execAbort(Err.arity('exec')));
    }
    if (tx === null) throw new ReplyError('ERR EXEC without MULTI');
    const r = registries.get(ctx.core);
    r?.checkExpired(ctx.client);
    const changed = r?.unwatch(ctx.client) ?? false;
    ctx.client.tx = null;
    if (tx.aborted) throw new ReplyError(EXECABORT);
    if (changed) {
      ctx.w.nilArray();
      return;
    }
    ctx.w.array(tx.queue.length);
    return runFrom(run, ctx, tx.queue, 0);
  };
}

let executing = 0;

/** True while EXEC runs queued commands (blocking commands then do not block). */
export function isExecuting(): boolean {
  return executing > 0;
}

/**
 * Runs `fn` as EXEC runs a queued command: blocking commands answer at once instead of waiting
 * (scripts use it for `redis.call`).
 */
export function runWithoutBlocking<T>(fn: () => T): T {
  executing++;
  try {
    return fn();
  } finally {
    executing--;
  }
}

/** Runs queued commands from `i`; waits for an asynchronous one before running the rest. */
function runFrom(
  run: RunCommand,
  ctx: CommandContext,
  queue: string[][],
  i: number,
): Promise<void> | undefined {
  for (; i < queue.length; i++) {
    executing++;
    let pending: Promise<void> | undefined;
    try {
      pending = run(ctx, queue[i]!);
    } finally {
      executing--;
    }
    if (pending !== undefined) {
      const next = i + 1;
      return pending.then(() => runFrom(run, ctx, queue, next));
    }
  }
  return undefined;
}

const none = [0, 0, 0] as const;

/** The transaction command specs; `run` executes one queued command (dispatch). */
export function transactionCommands(run: RunCommand): CommandSpec[] {
  return [
    command('multi', 1, ['fast', 'loading', 'stale'], none, multi),
    command('exec', -1, ['loading', 'stale'], none, exec(run)),
    command('discard', 1, ['fast', 'loading', 'stale'], none, discard),
    command('watch', -2, ['fast', 'loading', 'stale'], [1, -1, 1], watch),
    command('unwatch', 1, ['fast', 'loading', 'stale'], none, unwatch),
  ];
}
