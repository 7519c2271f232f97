/**
 * What EVAL/EVALSHA and FCALL share: loading the Lua VM on first use, splitting `numkeys` keys
 * from the arguments with Valkey's errors, and running one compiled function as the calling client
 * (its host, the client's last command kept as the script's caller, Valkey's error suffix naming
 * the script and the line that failed).
 */
import { type CommandContext, parseI64, ReplyError } from '../command-context.ts';
import { loadedLua, loadLua } from './lua-runtime.ts';
import type { LuaVm } from './lua-vm.ts';
import { type ScriptDispatch, scriptHost } from './script-host.ts';

/** Runs `fn` now when the VM is loaded, else once it is (the first script command). */
export function withLua<T>(fn: () => T): T | Promise<T> {
  if (loadedLua() !== null) return fn();
  return loadLua().then(fn, (error: unknown) => {
    throw new ReplyError(error instanceof Error ? error.message : String(error));
  });
}

/**
 * Splits `a` = [cmd, script-or-name, numkeys, ...] into keys and arguments; `notInteger` is the
 * command's reply to a numkeys that is not an integer.
 */
export function splitKeys(a: string[], notInteger: string): { keys: string[]; argv: string[] } {
  const n = parseI64(a[2]!);
  if (n === null) throw new ReplyError(notInteger);
  if (n > BigInt(a.length - 3))
    throw new ReplyError("ERR Number of keys can't be greater than number of args");
  if (n < 0n) throw new ReplyError("ERR Number of keys can't be negative");
  const k = Number(n);
  return { keys: a.slice(3, 3 + k), argv: a.slice(3 + k) };
}

/** One run: the compiled function `ref` of `vm`, reported under `name` when it fails. */
export interface ScriptRun {
  readonly vm: LuaVm;
  readonly ref: number;
  readonly name: string;
  readonly keys: string[];
  readonly argv: string[];
  /** Writes are refused (EVAL_RO, FCALL_RO, `no-writes`). */
  readonly noWrites: boolean;
  /** A FUNCTION library's function (called as `fn(keys, args)`), not an EVAL script. */
  readonly asFunction: boolean;
}

/** Runs a script or function into the client's reply; a failure becomes Valkey's error reply. */
export function runScript(ctx: CommandContext, d: ScriptDispatch, run: ScriptRun): void {
  const lastCommand = ctx.client.lastCommand;
  const host = scriptHost(ctx, d, run.noWrites);
  const failed = run.vm.run(run.ref, run.keys, run.argv, host, ctx.w, run.asFunction);
  ctx.client.lastCommand = lastCommand;
  if (failed === null) return;
  ctx.w.error(
    failed.source !== null && failed.line !== null
      ? `${failed.error} script: ${run.name}, on ${failed.source}:${failed.line}.`
      : failed.error,
  );
}
