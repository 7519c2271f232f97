/**
 * EVAL EVALSHA EVAL_RO EVALSHA_RO and SCRIPT LOAD|EXISTS|SHOW|FLUSH|KILL|HELP, with Valkey 8's replies.
 *
 * - The Lua VM (lua-runtime.ts) is loaded on the first command that needs it; that first command
 *   completes asynchronously (the connection holds its later commands meanwhile), every later one
 *   runs synchronously. Nothing else in the server touches the VM.
 * - Scripts are cached by SHA1 (EVAL caches what it runs, as Valkey 8.0 does; SCRIPT FLUSH empties
 *   the cache and starts a new Lua state). SHAs are matched case-insensitively.
 * - A script runs to its end inside one command: no other client's command interleaves, as in
 *   Valkey. There is no busy-script timeout: the engine is single-threaded and cannot answer
 *   anything while a script runs, so SCRIPT KILL always answers NOTBUSY (nothing can be running
 *   when it is read) and a script that never ends stops the server (Valkey would answer BUSY and
 *   accept SCRIPT KILL).
 * - Errors: compile errors as `ERR Error compiling script (new function): user_script:N: …`,
 *   runtime errors with Valkey's ` script: <sha>, on @user_script:N.` suffix.
 */
import { createHash } from 'node:crypto';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  ReplyError,
  type ServerState,
} from '../command-context.ts';
import { closeFunctions } from './function-commands.ts';
import { loadedLua } from './lua-runtime.ts';
import { LuaVm } from './lua-vm.ts';
import { checkDeclaredKeys, type ScriptDispatch } from './script-host.ts';
import { runScript, splitKeys, withLua } from './script-runner.ts';

/** SHA1 of latin1 bytes, lower-case hex (what EVALSHA names). */
export function sha1hex(bytes: string): string {
  return createHash('sha1').update(bytes, 'latin1').digest('hex');
}

/** One cached script. */
interface CachedScript {
  readonly source: string;
  /** The compiled function in the current VM's registry. */
  readonly ref: number;
  /** Declared `#!lua flags=no-writes`: runs as EVAL_RO. */
  readonly noWrites: boolean;
}

const SHEBANG_FLAGS = new Set([
  'no-writes',
  'allow-oom',
  'allow-stale',
  'no-cluster',
  'allow-cross-slot-keys',
]);

/**
 * Valkey's `#!lua [flags=a,b]` first line: returns the length of the line (without its newline, so
 * line numbers stay as written) and whether it declares no-writes; throws Valkey's errors.
 */
function shebang(source: string): { length: number; noWrites: boolean } {
  if (!source.startsWith('#!')) return { length: 0, noWrites: false };
  const end = source.indexOf('\n');
  if (end < 0) throw new ReplyError('ERR Invalid script shebang');
  const parts = source
    .slice(0, end)
    .split(' ')
    .filter((p) => p !== '');
  if (parts[0] !== '#!lua') throw new ReplyError(`ERR Unexpected engine in script shebang: ${parts[0]}`);
  let noWrites = false;
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) throw new ReplyError(`ERR Unknown lua shebang option: ${part}`);
    for (const flag of part.slice(6).split(',')) {
      if (flag === '') continue;
      if (!SHEBANG_FLAGS.has(flag)) throw new ReplyError(`ERR Unexpected flag in script shebang: ${flag}`);
      if (flag === 'no-writes') noWrites = true;
    }
  }
  return { length: end, noWrites };
}

/** A server's scripts and its VM (created on first use). */
class ScriptCache {
  readonly scripts = new Map<string, CachedScript>();
  vm: LuaVm | null = null;

  ensureVm(): LuaVm {
    if (this.vm === null) this.vm = new LuaVm(loadedLua()!, sha1hex);
    return this.vm;
  }

  /** Compiles and caches; throws the compile error reply. */
  load(source: string): string {
    const sha = sha1hex(source);
    const cached = this.scripts.get(sha);
    if (cached !== undefined) return sha;
    const { length, noWrites } = shebang(source);
    const ref = this.ensureVm().compile(length === 0 ? source : source.slice(length));
    if (typeof ref === 'string') throw new ReplyError(`ERR Error compiling script (new function): ${ref}`);
    this.scripts.set(sha, { source, ref, noWrites });
    return sha;
  }

  flush(): void {
    this.scripts.clear();
    this.vm?.close();
    this.vm = null;
  }
}

const caches = new WeakMap<ServerState, ScriptCache>();

function cacheOf(server: ServerState): ScriptCache {
  let c = caches.get(server);
  if (c === undefined) {
    c = new ScriptCache();
    caches.set(server, c);
  }
  return c;
}

/** Frees a server's Lua states, scripts and function libraries (the server closed). */
export function closeScripts(server: ServerState): void {
  caches.get(server)?.flush();
  caches.delete(server);
  closeFunctions(server);
}

function runCached(
  ctx: CommandContext,
  d: ScriptDispatch,
  cache: ScriptCache,
  sha: string,
  keys: string[],
  argv: string[],
  readOnly: boolean,
): void {
  const script = cache.scripts.get(sha)!;
  const noWrites = readOnly || script.noWrites;
  runScript(ctx, d, {
    vm: cache.ensureVm(),
    ref: script.ref,
    name: sha,
    keys,
    argv,
    noWrites,
    asFunction: false,
  });
}

function evalCommand(d: ScriptDispatch, readOnly: boolean) {
  return (ctx: CommandContext, a: string[]): void | Promise<void> => {
    const { keys, argv } = splitKeys(a, Err.notInteger);
    checkDeclaredKeys(ctx, d, a[0]!, keys);
    return withLua(() => {
      const cache = cacheOf(ctx.server);
      const sha = cache.load(a[1]!);
      runCached(ctx, d, cache, sha, keys, argv, readOnly);
    });
  };
}

function evalshaCommand(d: ScriptDispatch, readOnly: boolean) {
  return (ctx: CommandContext, a: string[]): void | Promise<void> => {
    const { keys, argv } = splitKeys(a, Err.notInteger);
    const sha = a[1]!.toLowerCase();
    const cache = cacheOf(ctx.server);
    if (sha.length !== 40 || !cache.scripts.has(sha)) throw new ReplyError('NOSCRIPT No matching script.');
    checkDeclaredKeys(ctx, d, a[0]!, keys);
    return withLua(() => runCached(ctx, d, cache, sha, keys, argv, readOnly));
  };
}

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined',
  '     by the lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'SHOW <sha1>',
  '    Show a script from the scripts cache.',
  'HELP',
  '    Print this help.',
];

function script(ctx: CommandContext, a: string[]): void | Promise<void> {
  const sub = a[1]!.toLowerCase();
  const cache = cacheOf(ctx.server);
  if (sub === 'load' && a.length === 3) {
    return withLua(() => {
      ctx.w.bulk(cache.load(a[2]!));
    });
  }
  if (sub === 'exists' && a.length >= 3) {
    ctx.w.array(a.length - 2);
    for (let i = 2; i < a.length; i++) ctx.w.int(cache.scripts.has(a[i]!.toLowerCase()) ? 1 : 0);
    return;
  }
  if (sub === 'flush') {
    if (a.length > 3 || (a.length === 3 && !['async', 'sync'].includes(a[2]!.toLowerCase())))
      throw new ReplyError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
    cache.flush();
    ctx.w.simple('OK');
    return;
  }
  if (sub === 'show' && a.length === 3) {
    const found = cache.scripts.get(a[2]!.toLowerCase());
    if (found === undefined) throw new ReplyError('NOSCRIPT No matching script.');
    ctx.w.bulk(found.source);
    return;
  }
  if (sub === 'kill' && a.length === 2) throw new ReplyError('NOTBUSY No scripts in execution right now.');
  if (sub === 'help' && a.length === 2) {
    ctx.w.array(SCRIPT_HELP.length);
    for (const line of SCRIPT_HELP) ctx.w.simple(line);
    return;
  }
  if (['load', 'exists', 'flush', 'kill', 'help', 'show'].includes(sub))
    throw new ReplyError(Err.arity(`script|${sub}`));
  throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try SCRIPT HELP.`);
}

/**
 * The EVAL family and SCRIPT; `d` runs the commands scripts call. No spec carries `readonly` or
 * `write`: ACL's @read/@write (derived from those flags) do not include scripts, as in Valkey, and
 * each command a script calls is checked on its own.
 */
export function evalCommands(d: ScriptDispatch): CommandSpec[] {
  const none = [0, 0, 0] as const;
  return [
    command('eval', -3, [], none, evalCommand(d, false)),
    command('evalsha', -3, [], none, evalshaCommand(d, false)),
    command('eval_ro', -3, [], none, evalCommand(d, true)),
    command('evalsha_ro', -3, [], none, evalshaCommand(d, true)),
    command('script', -2, [], none, script),
  ];
}
