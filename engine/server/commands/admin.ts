/**
 * Server administration commands: COMMAND (enough for clients: bare, COUNT, INFO, LIST, DOCS),
 * INFO, CONFIG (commands/config.ts), TIME, DBSIZE, FLUSHDB, FLUSHALL.
 */
import { type CommandContext, type CommandSpec, command, Err, ReplyError } from '../command-context.ts';
import { config } from './config.ts';
import { infoText } from './info-text.ts';

function info(ctx: CommandContext, a: string[]): void {
  ctx.w.verbatim(infoText(ctx, a.slice(1)));
}

function time(ctx: CommandContext): void {
  const ms = Date.now();
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000) % 1_000_000;
  ctx.w.array(2);
  ctx.w.bulk(String(Math.floor(ms / 1000)));
  ctx.w.bulk(String(micros));
}

function flush(name: string) {
  return (ctx: CommandContext, a: string[]): void => {
    if (a.length > 2) throw new ReplyError(Err.syntax);
    if (a.length === 2 && !['async', 'sync'].includes(a[1]!.toLowerCase())) throw new ReplyError(Err.syntax);
    void name;
    ctx.engine.flush();
    ctx.w.simple('OK');
  };
}

/** Writes the COMMAND INFO entry of one spec (Valkey 7+ 10-element shape). */
function commandEntry(ctx: CommandContext, spec: CommandSpec): void {
  const w = ctx.w;
  w.array(10);
  w.bulk(spec.name);
  w.int(spec.arity);
  const flags = spec.flags.filter((f) => f !== 'hookaware');
  w.set(flags.length);
  for (const f of flags) w.simple(f);
  w.int(spec.firstKey);
  w.int(spec.lastKey);
  w.int(spec.step);
  w.set(0);
  w.set(0);
  w.array(0);
  w.array(0);
}

/** Builds the COMMAND handler over the final table. */
export function commandCommand(table: () => Map<string, CommandSpec>): CommandSpec {
  return command('command', -1, ['loading', 'stale'], [0, 0, 0], (ctx, a) => {
    const specs = [...new Set(table().values())];
    const sub = a[1]?.toLowerCase();
    if (sub === undefined) {
      ctx.w.array(specs.length);
      for (const s of specs) commandEntry(ctx, s);
      return;
    }
    if (sub === 'count' && a.length === 2) {
      ctx.w.int(specs.length);
      return;
    }
    if (sub === 'list' && a.length === 2) {
      ctx.w.array(specs.length);
      for (const s of specs) ctx.w.bulk(s.name);
      return;
    }
    if (sub === 'info') {
      const names = a.length === 2 ? specs.map((s) => s.name) : a.slice(2);
      ctx.w.array(names.length);
      for (const n of names) {
        const s = table().get(n.toLowerCase());
        if (s) commandEntry(ctx, s);
        else ctx.w.nilArray();
      }
      return;
    }
    if (sub === 'docs') {
      ctx.w.map(0);
      return;
    }
    throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try COMMAND HELP.`);
  });
}

const none = [0, 0, 0] as const;

/** The admin command specs (COMMAND is added by the table, which it describes). */
export const adminCommands: CommandSpec[] = [
  command('config', -2, [], none, config),
  command('info', -1, [], none, info),
  command('time', 1, ['fast'], none, time),
  command('dbsize', 1, ['readonly', 'fast'], none, (ctx) => ctx.w.int(ctx.core.keyspace.size)),
  command('flushdb', -1, ['write'], none, flush('flushdb')),
  command('flushall', -1, ['write'], none, flush('flushall')),
];
