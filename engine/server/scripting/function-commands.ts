/**
 * FUNCTION LOAD|LIST|DELETE|FLUSH|STATS|KILL|HELP|DUMP|RESTORE and FCALL/FCALL_RO, with Valkey 8's replies.
 *
 * - A library is `#!lua name=<lib>` plus code that calls `redis.register_function` (positional or
 *   the table form with flags and description) when it is loaded; the functions then run with FCALL
 *   as `fn(keys, args)`. Libraries live in their own Lua state (SCRIPT FLUSH does not touch them,
 *   FUNCTION FLUSH does not touch EVAL's cache), created on the first FUNCTION LOAD.
 * - FCALL_RO runs only functions flagged `no-writes`; such a function cannot write from FCALL either.
 * - FUNCTION LIST lists libraries in load order and functions in registration order (Valkey's order
 *   is its hash table's). FUNCTION DUMP/RESTORE use Valkey's payload (function-payload.ts), so
 *   libraries move both ways between the engine and Valkey 8. Libraries are not persisted (nor is
 *   anything else in the engine).
 */
import { globMatch } from '../../glob.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  ReplyError,
  type ServerState,
} from '../command-context.ts';
import { sha1hex } from './eval-commands.ts';
import { decodeFunctionPayload, encodeFunctionPayload } from './function-payload.ts';
import { loadedLua } from './lua-runtime.ts';
import { type LibraryFunction, LuaVm } from './lua-vm.ts';
import { checkDeclaredKeys, type ScriptDispatch } from './script-host.ts';
import { runScript, splitKeys, withLua } from './script-runner.ts';

/** A loaded library. */
interface Library {
  readonly name: string;
  readonly code: string;
  readonly functions: readonly LibraryFunction[];
}

/** A server's function libraries and their Lua state. */
class FunctionStore {
  readonly libraries = new Map<string, Library>();
  /** Functions by lower-case name (names are case-insensitive, as in Valkey). */
  readonly functions = new Map<string, { fn: LibraryFunction; library: Library }>();
  vm: LuaVm | null = null;

  flush(): void {
    this.libraries.clear();
    this.functions.clear();
    this.vm?.close();
    this.vm = null;
  }

  delete(name: string): void {
    const lib = this.libraries.get(name)!;
    this.libraries.delete(name);
    for (const fn of lib.functions) {
      this.functions.delete(fn.name.toLowerCase());
      this.vm?.release(fn.ref);
    }
  }
}

const stores = new WeakMap<ServerState, FunctionStore>();

function storeOf(server: ServerState): FunctionStore {
  let s = stores.get(server);
  if (s === undefined) {
    s = new FunctionStore();
    stores.set(server, s);
  }
  return s;
}

/** Frees a server's function libraries (the server closed). */
export function closeFunctions(server: ServerState): void {
  stores.get(server)?.flush();
  stores.delete(server);
}

const NAME = /^[A-Za-z0-9_]+$/;
const BAD_NAME =
  'ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';

/** Parses `#!lua name=<lib>`; returns the name and where the code after the line starts. */
function metadata(code: string): { name: string; skip: number } {
  if (!code.startsWith('#!')) throw new ReplyError('ERR Missing library metadata');
  let end = code.indexOf('\n');
  if (end < 0) end = code.length;
  const parts = code
    .slice(2, end)
    .split(' ')
    .filter((p) => p !== '');
  const engine = parts[0] ?? '';
  if (engine.toLowerCase() !== 'lua') throw new ReplyError(`ERR Engine '${engine}' not found`);
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (!part.startsWith('name=')) throw new ReplyError(`ERR Invalid metadata value given: ${part}`);
    name = part.slice(5);
  }
  if (name === null) throw new ReplyError('ERR Library name was not given');
  if (!NAME.test(name)) throw new ReplyError(BAD_NAME);
  return { name, skip: end };
}

function load(ctx: CommandContext, a: string[], reply = true): void {
  let replace = false;
  for (let i = 2; i < a.length - 1; i++) {
    if (a[i]!.toLowerCase() !== 'replace') throw new ReplyError(`ERR Unknown option given: ${a[i]}`);
    replace = true;
  }
  const code = a[a.length - 1]!;
  const { name, skip } = metadata(code);
  const store = storeOf(ctx.server);
  const old = store.libraries.get(name);
  if (old !== undefined && !replace) throw new ReplyError(`ERR Library '${name}' already exists`);
  if (store.vm === null) store.vm = new LuaVm(loadedLua()!, sha1hex);
  const vm = store.vm;
  const registered = vm.loadLibrary(code.slice(skip));
  if (typeof registered === 'string') throw new ReplyError(registered);
  const drop = () => {
    for (const fn of registered) vm.release(fn.ref);
  };
  if (registered.length === 0) {
    drop();
    throw new ReplyError('ERR No functions registered');
  }
  for (const fn of registered) {
    const other = store.functions.get(fn.name.toLowerCase());
    if (other !== undefined && other.library.name !== name) {
      drop();
      throw new ReplyError(`ERR Function ${fn.name} already exists`);
    }
  }
  if (old !== undefined) store.delete(name);
  const lib: Library = { name, code, functions: registered };
  store.libraries.set(name, lib);
  for (const fn of registered) store.functions.set(fn.name.toLowerCase(), { fn, library: lib });
  if (reply) ctx.w.bulk(name);
}

function list(ctx: CommandContext, a: string[]): void {
  let pattern: string | null = null;
  let withCode = false;
  for (let i = 2; i < a.length; i++) {
    const opt = a[i]!.toLowerCase();
    if (opt === 'withcode' && !withCode) withCode = true;
    else if (opt === 'libraryname' && pattern === null) {
      if (i + 1 >= a.length) throw new ReplyError('ERR library name argument was not given');
      pattern = a[++i]!;
    } else throw new ReplyError(`ERR Unknown argument ${a[i]}`);
  }
  const libs = [...storeOf(ctx.server).libraries.values()].filter(
    (l) => pattern === null || globMatch(pattern, l.name),
  );
  const w = ctx.w;
  w.array(libs.length);
  for (const lib of libs) {
    w.map(withCode ? 4 : 3);
    w.bulk('library_name');
    w.bulk(lib.name);
    w.bulk('engine');
    w.bulk('LUA');
    w.bulk('functions');
    w.array(lib.functions.length);
    for (const fn of lib.functions) {
      w.map(3);
      w.bulk('name');
      w.bulk(fn.name);
      w.bulk('description');
      if (fn.description === null) w.nil();
      else w.bulk(fn.description);
      w.bulk('flags');
      w.set(fn.flags.length);
      for (const f of fn.flags) w.simple(f);
    }
    if (withCode) {
      w.bulk('library_code');
      w.bulk(lib.code);
    }
  }
}

const FUNCTION_HELP = [
  'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
  'HELP',
  '    Print this help.',
];

/** Valkey's reply to a container subcommand with the wrong number of arguments. */
/**
 * FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] as Valkey's: the payload is read whole first;
 * APPEND (the default) refuses a library name that exists, REPLACE replaces it, FLUSH drops every
 * library first. All or nothing: when a library fails to load, the libraries before the call are
 * loaded back and the error is the reply.
 */
function restore(ctx: CommandContext, a: string[]): void {
  const policy = a.length === 4 ? a[3]!.toLowerCase() : 'append';
  if (!['append', 'replace', 'flush'].includes(policy))
    throw new ReplyError('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
  const codes = decodeFunctionPayload(Buffer.from(a[2]!, 'latin1'));
  const store = storeOf(ctx.server);
  const incoming = new Map<string, string>();
  for (const code of codes) {
    const { name } = metadata(code);
    if (incoming.has(name)) throw new ReplyError(`ERR Library '${name}' already exists`);
    incoming.set(name, code);
  }
  if (policy === 'append')
    for (const name of incoming.keys())
      if (store.libraries.has(name)) throw new ReplyError(`ERR Library ${name} already exists`);
  const before = [...store.libraries.values()].map((l) => l.code);
  const kept = policy === 'flush' ? [] : before.filter((code) => !incoming.has(metadata(code).name));
  const loadAll = (all: string[]): void => {
    store.flush();
    for (const code of all) load(ctx, ['function', 'load', code], false);
  };
  try {
    loadAll([...kept, ...incoming.values()]);
  } catch (error) {
    loadAll(before);
    throw error;
  }
  ctx.w.simple('OK');
}

function subArity(a: string[]): ReplyError {
  return new ReplyError(
    `ERR unknown subcommand or wrong number of arguments for '${a[1]!.slice(0, 128)}'. Try FUNCTION HELP.`,
  );
}

function fn(ctx: CommandContext, a: string[]): void | Promise<void> {
  const sub = a[1]!.toLowerCase();
  const w = ctx.w;
  switch (sub) {
    case 'load':
      if (a.length < 3) throw new ReplyError(Err.arity('function|load'));
      return withLua(() => load(ctx, a));
    case 'list':
      return list(ctx, a);
    case 'delete': {
      if (a.length !== 3) throw new ReplyError(Err.arity('function|delete'));
      const store = storeOf(ctx.server);
      if (!store.libraries.has(a[2]!)) throw new ReplyError('ERR Library not found');
      store.delete(a[2]!);
      w.simple('OK');
      return;
    }
    case 'flush':
      if (a.length > 3) throw subArity(a);
      if (a.length === 3 && !['async', 'sync'].includes(a[2]!.toLowerCase()))
        throw new ReplyError('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
      storeOf(ctx.server).flush();
      w.simple('OK');
      return;
    case 'stats': {
      if (a.length !== 2) throw new ReplyError(Err.arity('function|stats'));
      const store = storeOf(ctx.server);
      w.map(2);
      w.bulk('running_script');
      w.nil();
      w.bulk('engines');
      w.map(1);
      w.bulk('LUA');
      w.map(2);
      w.bulk('libraries_count');
      w.int(store.libraries.size);
      w.bulk('functions_count');
      w.int(store.functions.size);
      return;
    }
    case 'kill':
      if (a.length !== 2) throw new ReplyError(Err.arity('function|kill'));
      throw new ReplyError('NOTBUSY No scripts in execution right now.');
    case 'help':
      if (a.length !== 2) throw new ReplyError(Err.arity('function|help'));
      w.array(FUNCTION_HELP.length);
      for (const line of FUNCTION_HELP) w.simple(line);
      return;
    case 'dump':
      if (a.length !== 2) throw new ReplyError(Err.arity('function|dump'));
      w.bulk(
        encodeFunctionPayload([...storeOf(ctx.server).libraries.values()].map((l) => l.code)).toString(
          'latin1',
        ),
      );
      return;
    case 'restore':
      if (a.length < 3) throw new ReplyError(Err.arity('function|restore'));
      if (a.length > 4) throw subArity(a);
      return withLua(() => restore(ctx, a));
    default:
      throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try FUNCTION HELP.`);
  }
}

function fcall(d: ScriptDispatch, readOnly: boolean) {
  return (ctx: CommandContext, a: string[]): void => {
    const found = storeOf(ctx.server).functions.get(a[1]!.toLowerCase());
    if (found === undefined) throw new ReplyError('ERR Function not found');
    const { keys, argv } = splitKeys(a, 'ERR Bad number of keys provided');
    const noWrites = found.fn.flags.includes('no-writes');
    if (readOnly && !noWrites)
      throw new ReplyError('ERR Can not execute a script with write flag using *_ro command.');
    checkDeclaredKeys(ctx, d, a[0]!, keys);
    const vm = storeOf(ctx.server).vm!;
    runScript(ctx, d, { vm, ref: found.fn.ref, name: found.fn.name, keys, argv, noWrites, asFunction: true });
  };
}

/** FUNCTION, FCALL and FCALL_RO; `d` runs the commands functions call. */
export function functionCommands(d: ScriptDispatch): CommandSpec[] {
  const none = [0, 0, 0] as const;
  return [
    command('function', -2, [], none, fn),
    command('fcall', -3, [], none, fcall(d, false)),
    command('fcall_ro', -3, [], none, fcall(d, true)),
  ];
}
