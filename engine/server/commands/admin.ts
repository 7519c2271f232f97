/**
 * Server administration commands: COMMAND (enough for clients: bare, COUNT, INFO, LIST, DOCS),
 * INFO, CONFIG GET/SET/RESETSTAT, TIME, DBSIZE, FLUSHDB, FLUSHALL.
 *
 * CONFIG supports: maxmemory, maxmemory-policy, maxmemory-samples (read-only), proto-max-bulk-len,
 * requirepass, plus read-only port/bind/save/appendonly/databases/timeout so tools that probe them
 * (valkey-benchmark reads `save` and `appendonly`) get sensible answers.
 */
import { isEvictionPolicy } from '../../eviction.ts';
import { globMatch } from '../../glob.ts';
import { parseMemorySize } from '../../memory.ts';
import { type CommandContext, type CommandSpec, command, Err, ReplyError } from '../command-context.ts';
import { infoText } from './info-text.ts';

function configValues(ctx: CommandContext): [string, string][] {
  const s = ctx.server;
  return [
    ['maxmemory', String(ctx.core.maxmemory)],
    ['maxmemory-policy', ctx.core.policy],
    ['maxmemory-samples', '5'],
    ['proto-max-bulk-len', String(s.protoMaxBulkLen)],
    ['requirepass', s.requirepass ?? ''],
    ['port', String(s.port)],
    ['bind', s.tcpBind],
    ['save', ''],
    ['appendonly', 'no'],
    ['databases', '1'],
    ['timeout', '0'],
  ];
}

function config(ctx: CommandContext, a: string[]): void {
  const sub = a[1]!.toLowerCase();
  if (sub === 'get') {
    if (a.length < 3) throw new ReplyError(Err.arity('config|get'));
    const values = configValues(ctx);
    const out = new Map<string, string>();
    for (let i = 2; i < a.length; i++) {
      const pattern = a[i]!.toLowerCase();
      for (const [k, v] of values) if (globMatch(pattern, k)) out.set(k, v);
    }
    ctx.w.map(out.size);
    for (const [k, v] of out) {
      ctx.w.bulk(k);
      ctx.w.bulk(v);
    }
    return;
  }
  if (sub === 'set') {
    if (a.length < 4 || a.length % 2 === 1) throw new ReplyError(Err.arity('config|set'));
    const changes: (() => void)[] = [];
    for (let i = 2; i < a.length; i += 2) {
      const name = a[i]!.toLowerCase();
      const value = a[i + 1]!;
      const fail = (why: string): never => {
        throw new ReplyError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`);
      };
      if (name === 'maxmemory') {
        const n = parseMemorySize(value);
        if (n === null) fail('argument must be a memory value');
        changes.push(() => ctx.engine.configureMemory(n!));
      } else if (name === 'maxmemory-policy') {
        const p = value.toLowerCase();
        if (!isEvictionPolicy(p))
          fail(
            'argument(s) must be one of the following: noeviction, allkeys-lru, volatile-lru, allkeys-lfu, volatile-lfu, allkeys-random, volatile-random, volatile-ttl',
          );
        changes.push(() => ctx.engine.configureMemory(ctx.core.maxmemory, p as never));
      } else if (name === 'proto-max-bulk-len') {
        const n = parseMemorySize(value);
        if (n === null || n < 1024 * 1024) fail('argument must be a memory value');
        changes.push(() => {
          ctx.server.protoMaxBulkLen = n!;
        });
      } else if (name === 'requirepass') {
        changes.push(() => {
          ctx.server.requirepass = value === '' ? null : value;
        });
      } else {
        fail('Unknown option or number of arguments for CONFIG SET');
      }
    }
    for (const c of changes) c();
    ctx.w.simple('OK');
    return;
  }
  if (sub === 'resetstat' && a.length === 2) {
    ctx.w.simple('OK');
    return;
  }
  throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try CONFIG HELP.`);
}

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
