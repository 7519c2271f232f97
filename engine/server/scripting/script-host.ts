/**
 * What `redis.call` / `redis.pcall` do: run one command through the server's own dispatcher, as
 * the calling client (its ACL user, its client tracking), into a private reply writer whose bytes
 * the VM turns into Lua values. Going through the dispatcher means a script's writes trigger WATCH,
 * keyspace notifications and tracking invalidations exactly as the same commands sent directly.
 *
 * Refused from scripts, with Valkey's messages: unknown commands, wrong arity, Valkey's `noscript`
 * commands (MULTI, SUBSCRIBE, EVAL, CLIENT, CONFIG, …), writes from EVAL_RO/EVALSHA_RO/FCALL_RO,
 * commands or keys the caller's ACL user may not use (`ERR ACL failure in script: …`).
 * Blocking commands answer at once as if their timeout expired (as in Valkey). Engine-only: a
 * write to a key under a write-through hook, and CACHE.WAIT/CACHE.WAITUNLOCK, are refused, because
 * they complete asynchronously and a script runs to its end without yielding.
 */
import { NoPerm, permissionError } from '../acl.ts';
import { type CommandContext, type CommandSpec, ReplyError } from '../command-context.ts';
import { runWithoutBlocking } from '../commands/transactions.ts';
import { ReplyWriter } from '../reply-writer.ts';
import { ScriptCallError, type ScriptHost } from './lua-vm.ts';

/** Runs one command as dispatch does (checks, handler, error reply). */
export type RunCommand = (ctx: CommandContext, args: string[]) => Promise<void> | undefined;

/** What the host needs from the command table. */
export interface ScriptDispatch {
  readonly run: RunCommand;
  readonly table: () => Map<string, CommandSpec>;
  readonly keysOf: (spec: CommandSpec, args: string[]) => string[];
}

/** Valkey's `noscript` commands, plus the engine's asynchronous CACHE.WAIT family. */
const NOSCRIPT = new Set([
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'eval',
  'evalsha',
  'eval_ro',
  'evalsha_ro',
  'script',
  'function',
  'fcall',
  'fcall_ro',
  'subscribe',
  'psubscribe',
  'unsubscribe',
  'punsubscribe',
  'ssubscribe',
  'sunsubscribe',
  'auth',
  'hello',
  'client',
  'config',
  'acl',
  'quit',
  'reset',
  'monitor',
  'wait',
  'waitaof',
  'shutdown',
  'cache.wait',
  'cache.waitunlock',
]);

/** One writer for every script call (a script runs to its end before another starts). */
const capture = new ReplyWriter();

/**
 * Valkey checks the keys a script declares (KEYS, FCALL's keys) against the caller's ACL key
 * patterns before it runs; throws `NOPERM No permissions to access a key`.
 */
export function checkDeclaredKeys(
  ctx: CommandContext,
  d: ScriptDispatch,
  name: string,
  keys: string[],
): void {
  const user = ctx.client.user;
  if (user.unrestricted || user.allKeys || keys.length === 0) return;
  const spec = d.table().get(name.toLowerCase())!;
  if (permissionError(user, spec, spec.name, keys) === NoPerm.key) {
    ctx.server.aclDeniedKeys++;
    throw new ReplyError(NoPerm.key);
  }
}

/** Builds the host the VM calls back into while a script of `ctx`'s client runs. */
export function scriptHost(ctx: CommandContext, d: ScriptDispatch, readOnly: boolean): ScriptHost {
  const inner: CommandContext = {
    engine: ctx.engine,
    core: ctx.core,
    w: capture,
    client: ctx.client,
    server: ctx.server,
    now: ctx.core.clock.now(),
  };
  const specOf = (args: string[]): CommandSpec => {
    const name = args[0]!;
    const table = d.table();
    const spec = table.get(name) ?? table.get(name.toLowerCase());
    if (spec === undefined) throw new ScriptCallError('ERR Unknown command called from script');
    return spec;
  };
  return {
    call(args, resp) {
      const spec = specOf(args);
      if ((spec.arity > 0 && args.length !== spec.arity) || args.length < -spec.arity)
        throw new ScriptCallError('ERR Wrong number of args calling command from script');
      if (NOSCRIPT.has(spec.name))
        throw new ScriptCallError('ERR This Redis command is not allowed from script');
      if (spec.flags.includes('write')) {
        if (readOnly) throw new ScriptCallError('ERR Write commands are not allowed from read-only scripts.');
        const hooks = ctx.engine.hooks;
        if (hooks.active && d.keysOf(spec, args).some((k) => hooks.match(k)))
          throw new ScriptCallError(
            `ERR ${spec.name} on a key with a write-through hook cannot run from a script (the hook is asynchronous)`,
          );
      }
      const user = ctx.client.user;
      if (!user.unrestricted) {
        const denied = permissionError(user, spec, spec.name, d.keysOf(spec, args));
        if (denied !== null) {
          if (denied === NoPerm.key) ctx.server.aclDeniedKeys++;
          else ctx.server.aclDeniedCommands++;
          throw new ScriptCallError(`ERR ACL failure in script: ${denied.replace(/^NOPERM /, '')}`);
        }
      }
      capture.resp = resp;
      const server = ctx.server;
      const savedArgs = server.currentArgs;
      server.currentArgs = args;
      let pending: Promise<void> | undefined;
      try {
        pending = runWithoutBlocking(() => d.run(inner, args));
      } finally {
        server.currentArgs = savedArgs;
      }
      if (pending !== undefined) {
        // Not reached for the commands above; kept so a new asynchronous command cannot hang a script.
        capture.take();
        void pending.catch(() => {});
        throw new ScriptCallError(`ERR ${spec.name} cannot run from a script (it completes asynchronously)`);
      }
      return capture.take();
    },
    aclCheck(args) {
      const table = d.table();
      const spec = table.get(args[0]!) ?? table.get(args[0]!.toLowerCase());
      if (spec === undefined)
        throw new ScriptCallError('ERR Invalid command passed to server.acl_check_cmd()');
      const user = ctx.client.user;
      return user.unrestricted || permissionError(user, spec, spec.name, d.keysOf(spec, args)) === null;
    },
    log() {
      // The engine keeps no server log; redis.log is accepted and its message dropped.
    },
  };
}
