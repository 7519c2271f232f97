/**
 * The command table and dispatch: name lookup (case-insensitive), AUTH gate, arity check, the
 * write-through guard for commands that cannot go through hooks, and error-reply mapping. Replies
 * and error texts are Valkey 8's.
 */
import type { EngineState } from '../engine-state.ts';
import { EngineError } from '../errors.ts';
import { AccessTracking } from '../keyspace.ts';
import { touchCommandKeys } from './access-tracking.ts';
import { NoPerm, permissionError } from './acl.ts';
import { type CommandContext, type CommandSpec, Err, ReplyError } from './command-context.ts';
import { aclCommand } from './commands/acl.ts';
import { adminCommands, commandCommand } from './commands/admin.ts';
import { bitfieldCommands } from './commands/bitfield.ts';
import { blockingCommands } from './commands/blocking.ts';
import { bloomCommands } from './commands/bloom.ts';
import { cacheCommands } from './commands/cache.ts';
import { compatCommands } from './commands/compat.ts';
import { connectionCommands } from './commands/connection.ts';
import { dumpRestoreCommands } from './commands/dump-restore.ts';
import { hashCommands } from './commands/hashes.ts';
import { keyCommands } from './commands/keys.ts';
import { listCommands } from './commands/lists.ts';
import { mpopCommands } from './commands/mpop.ts';
import { pubsubCommands, subscribedModeError } from './commands/pubsub.ts';
import { setCommands } from './commands/sets.ts';
import { notHookAware } from './commands/string-helpers.ts';
import { stringRangeCommands } from './commands/string-ranges.ts';
import { stringCommands } from './commands/strings.ts';
import { queueInMulti, transactionCommands } from './commands/transactions.ts';
import { zsetRangeCommands } from './commands/zset-ranges.ts';
import { zsetCommands } from './commands/zsets.ts';
import { evalCommands } from './scripting/eval-commands.ts';
import { functionCommands } from './scripting/function-commands.ts';

/** Commands whose first argument names a subcommand (CLIENT INFO reports `client|info`). */
const CONTAINERS = new Set(['client', 'config', 'memory', 'command', 'acl', 'pubsub', 'script', 'function']);

/** Builds the table: lower- and upper-case names map to the same spec. */
export function buildCommandTable(): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  const add = (spec: CommandSpec): void => {
    table.set(spec.name, spec);
    table.set(spec.name.toUpperCase(), spec);
  };
  for (const list of [
    stringCommands,
    keyCommands,
    hashCommands,
    connectionCommands,
    adminCommands,
    cacheCommands,
    pubsubCommands,
    compatCommands,
    dumpRestoreCommands,
    setCommands,
    listCommands,
    zsetCommands,
    zsetRangeCommands,
    blockingCommands,
    mpopCommands,
    stringRangeCommands,
    bloomCommands,
    bitfieldCommands,
  ]) {
    for (const spec of list) add(spec);
  }
  for (const spec of transactionCommands((ctx, args) => dispatch(table, ctx, ctx.core, args))) add(spec);
  const run = (ctx: CommandContext, args: string[]) => dispatch(table, ctx, ctx.core, args);
  const scripts = { run, table: () => table, keysOf };
  for (const spec of [...evalCommands(scripts), ...functionCommands(scripts)]) add(spec);
  add(commandCommand(() => table));
  add(aclCommand(() => table));
  return table;
}

/** Valkey's reply to an unknown command. */
export function unknownCommandError(args: string[]): string {
  let rest = '';
  for (let i = 1; i < args.length && rest.length < 128; i++)
    rest += `'${args[i]!.slice(0, 128 - rest.length)}' `;
  return `ERR unknown command '${args[0]!.slice(0, 128)}', with args beginning with: ${rest}`;
}

/** Maps a thrown error to its reply text. Unexpected errors become `ERR` replies, never crashes. */
export function errorReplyText(error: unknown): string {
  if (error instanceof ReplyError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof EngineError && /^[A-Z]+ /.test(message)) return message;
  return `ERR ${message}`;
}

/** The key arguments of a command per its spec's first/last/step. */
export function keysOf(spec: CommandSpec, args: string[]): string[] {
  if (spec.firstKey === 0) return [];
  const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey;
  const out: string[] = [];
  for (let i = spec.firstKey; i <= last && i < args.length; i += spec.step) out.push(args[i]!);
  return out;
}

/** Client tracking: a read-only command's keys go into the tracking table (tracking.ts decides). */
function rememberTracked(spec: CommandSpec, ctx: CommandContext, args: string[]): void {
  if (spec.flags.includes('readonly')) ctx.server.tracking.remember(ctx.client, keysOf(spec, args));
}

/**
 * Runs one command. Returns a Promise when the handler is asynchronous (the caller must hold later
 * commands until it settles), otherwise undefined. Never throws.
 */
export function dispatch(
  table: Map<string, CommandSpec>,
  ctx: CommandContext,
  core: EngineState,
  args: string[],
): Promise<void> | undefined {
  if (ctx.client.tx !== null && queueInMulti(table, ctx, args, unknownCommandError, keysOf)) return undefined;
  const name = args[0]!;
  const spec = table.get(name) ?? table.get(name.toLowerCase());
  const w = ctx.w;
  if (spec === undefined) {
    w.error(unknownCommandError(args));
    return undefined;
  }
  ctx.client.lastCommand =
    args.length > 1 && CONTAINERS.has(spec.name) ? `${spec.name}|${args[1]!.toLowerCase()}` : spec.name;
  if (!ctx.client.authenticated && !spec.flags.includes('noauth')) {
    w.error(Err.noAuth);
    return undefined;
  }
  const arity = spec.arity;
  if ((arity > 0 && args.length !== arity) || args.length < -arity) {
    w.error(Err.arity(spec.name));
    return undefined;
  }
  const user = ctx.client.user;
  if (!user.unrestricted && !spec.flags.includes('noauth')) {
    const denied = permissionError(user, spec, ctx.client.lastCommand, keysOf(spec, args));
    if (denied !== null) {
      if (denied === NoPerm.key) ctx.server.aclDeniedKeys++;
      else ctx.server.aclDeniedCommands++;
      w.error(denied);
      return undefined;
    }
  }
  if (ctx.client.pubsub !== null && w.resp === 2) {
    const refused = subscribedModeError(spec.name, ctx.client.lastCommand);
    if (refused !== null) {
      w.error(refused);
      return undefined;
    }
  }
  try {
    if (ctx.engine.hooks.active && spec.flags.includes('write') && !spec.flags.includes('hookaware')) {
      for (const key of keysOf(spec, args)) if (ctx.engine.hooks.match(key)) throw notHookAware(spec.name);
    }
    if (core.keyspace.tracking === AccessTracking.Lfu) touchCommandKeys(spec, ctx, args);
    const result = spec.handler(ctx, args);
    if (ctx.client.tracking !== null) rememberTracked(spec, ctx, args);
    if (result !== undefined) return result.catch((error: unknown) => w.error(errorReplyText(error)));
  } catch (error) {
    w.error(errorReplyText(error));
    if (ctx.client.tracking !== null) rememberTracked(spec, ctx, args);
  }
  return undefined;
}
