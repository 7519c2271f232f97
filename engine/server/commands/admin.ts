/**
 * Server administration commands: COMMAND (enough for clients: bare, COUNT, INFO, LIST, DOCS),
 * INFO, CONFIG GET/SET/RESETSTAT, TIME, DBSIZE, FLUSHDB, FLUSHALL.
 *
 * CONFIG supports: maxmemory (0 = the default share of the heap, never unlimited), maxmemory-policy,
 * maxmemory-clients, proto-max-bulk-len (capped at the longest V8 string), client-query-buffer-limit,
 * client-output-buffer-limit, timeout, requirepass (not removable on a non-loopback bind unless
 * enable-protected-configs), plus read-only maxmemory-samples/port/bind/save/appendonly/databases so
 * tools that probe them (valkey-benchmark reads `save` and `appendonly`) get sensible answers.
 * Every other Valkey 8 parameter (valkey-config-defaults.ts) is accepted as Valkey accepts it:
 * CONFIG SET stores the value as given (not validated, no effect on the engine) and CONFIG GET echoes
 * it; immutable and protected ones are refused with Valkey's errors.
 */
import { type EvictionPolicyValue, isEvictionPolicy } from '../../eviction.ts';
import { globMatch } from '../../glob.ts';
import { defaultMaxmemory, maxmemoryProblem, parseMemorySize } from '../../memory.ts';
import { formatOutputBufferLimits, parseOutputBufferLimits } from '../client-limits.ts';
import {
  type CommandContext,
  type CommandSpec,
  command,
  Err,
  parseI64,
  ReplyError,
} from '../command-context.ts';
import { formatKeyspaceEventFlags, parseKeyspaceEventFlags } from '../keyspace-events.ts';
import { MAX_PROTO_MAX_BULK_LEN, QUERY_BUFFER_LIMIT } from '../resp-parser.ts';
import { VALKEY_CONFIG_DEFAULTS } from '../valkey-config-defaults.ts';
import { infoText } from './info-text.ts';

/** Mutability of each Valkey parameter the engine only stores. */
const VALKEY_PARAMS = new Map(VALKEY_CONFIG_DEFAULTS.map(([name, , m]) => [name, m]));

/** Stored values of the parameters the engine only echoes, per server. */
const storedConfigs = new WeakMap<object, Map<string, string>>();

function stored(ctx: CommandContext): Map<string, string> {
  let m = storedConfigs.get(ctx.server);
  if (m === undefined) {
    m = new Map(VALKEY_CONFIG_DEFAULTS.map(([name, value]) => [name, value]));
    m.set('dir', process.cwd());
    storedConfigs.set(ctx.server, m);
  }
  return m;
}

function configValues(ctx: CommandContext): [string, string][] {
  const out = new Map(stored(ctx));
  for (const [k, v] of engineConfigValues(ctx)) out.set(k, v);
  return [...out];
}

function engineConfigValues(ctx: CommandContext): [string, string][] {
  const s = ctx.server;
  return [
    ['maxmemory', String(ctx.core.maxmemory)],
    ['maxmemory-policy', ctx.core.policy],
    ['maxmemory-clients', String(s.maxmemoryClients)],
    ['proto-max-bulk-len', String(s.protoMaxBulkLen)],
    ['client-query-buffer-limit', String(s.clientQueryBufferLimit)],
    ['client-output-buffer-limit', formatOutputBufferLimits(s.clientOutputBufferLimit)],
    ['requirepass', s.requirepass ?? ''],
    ['enable-protected-configs', s.enableProtectedConfigs ? 'yes' : 'no'],
    ['port', String(s.port)],
    ['bind', s.tcpBind],
    ['databases', '1'],
    ['timeout', String(s.timeout)],
    ['notify-keyspace-events', formatKeyspaceEventFlags(s.keyspaceEvents.flags)],
    ['tracking-table-max-keys', String(s.tracking.maxKeys)],
  ];
}

/** `fail` throws CONFIG SET's error for one argument. */
type Fail = (why: string) => never;

/** Checks one CONFIG SET pair; returns the change to apply once every pair was checked. */
function configChange(ctx: CommandContext, name: string, value: string, fail: Fail): () => void {
  const s = ctx.server;
  const size = (min: number, max: number): number => {
    const n = parseMemorySize(value);
    if (n === null) fail('argument must be a memory value');
    if (n! < min || n! > max) fail(`argument must be between ${min} and ${max} inclusive`);
    return n!;
  };
  switch (name) {
    case 'maxmemory': {
      let n = parseMemorySize(value);
      if (n === null) fail('argument must be a memory value');
      // 0 means "no limit" in Valkey; a served engine without a limit dies at the heap limit, so
      // 0 restores the default share instead (see engine/README.md).
      if (n === 0) n = defaultMaxmemory();
      const problem = maxmemoryProblem(n!);
      if (problem !== null) fail(problem);
      return () => ctx.engine.configureMemory(n!);
    }
    case 'maxmemory-policy': {
      const p = value.toLowerCase();
      if (!isEvictionPolicy(p))
        fail(
          'argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction',
        );
      return () => ctx.engine.configureMemory(ctx.core.maxmemory, p as EvictionPolicyValue);
    }
    case 'proto-max-bulk-len': {
      const n = size(1024 * 1024, MAX_PROTO_MAX_BULK_LEN);
      return () => {
        s.protoMaxBulkLen = n;
      };
    }
    case 'client-query-buffer-limit': {
      const n = size(1024 * 1024, QUERY_BUFFER_LIMIT);
      return () => {
        s.clientQueryBufferLimit = n;
      };
    }
    case 'maxmemory-clients': {
      // A percentage is of maxmemory, as in Valkey (resolved now; a later maxmemory change keeps it).
      const pct = /^(\d+)%$/.exec(value);
      if (pct === null && parseMemorySize(value) === null) fail('argument must be a memory or percent value');
      if (pct !== null && Number(pct[1]) > 100) fail('argument must be between 0 and 100 inclusive');
      const n =
        pct !== null
          ? Math.floor((ctx.core.maxmemory * Number(pct[1])) / 100)
          : size(0, Number.MAX_SAFE_INTEGER);
      return () => {
        s.maxmemoryClients = n;
      };
    }
    case 'client-output-buffer-limit': {
      const parsed = parseOutputBufferLimits(value);
      if (typeof parsed === 'string') fail(parsed);
      return () => Object.assign(s.clientOutputBufferLimit, parsed);
    }
    case 'timeout': {
      if (!/^\d+$/.test(value) || Number(value) > 2147483647)
        fail('argument must be between 0 and 2147483647 inclusive');
      return () => {
        s.timeout = Number(value);
      };
    }
    case 'requirepass':
      // Valkey's protected-config rule, applied to the one setting that guards a network bind.
      if (value === '' && !s.loopbackOnly && !s.enableProtectedConfigs) fail("can't set protected config");
      return () => {
        s.requirepass = value === '' ? null : value;
      };
    case 'notify-keyspace-events': {
      const flags = parseKeyspaceEventFlags(value);
      if (flags === null) fail("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
      return () => s.keyspaceEvents.configure(flags!);
    }
    case 'tracking-table-max-keys': {
      const n = parseI64(value);
      if (n === null) fail("argument couldn't be parsed into an integer");
      if (n! < 0n) fail('argument must be between 0 and 9223372036854775807 inclusive');
      return () => {
        s.tracking.maxKeys = Number(n);
      };
    }
    case 'port':
    case 'bind':
      return fail('the engine does not rebind at run time (restart it with the new address)');
    default: {
      const m = VALKEY_PARAMS.get(name);
      if (m === undefined)
        throw new ReplyError(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
      if (m === 'i') fail("can't set immutable config");
      if (m === 'p' && !s.enableProtectedConfigs) fail("can't set protected config");
      return () => stored(ctx).set(name, value);
    }
  }
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
      const fail = (why: string): never => {
        throw new ReplyError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`);
      };
      changes.push(configChange(ctx, name, a[i + 1]!, fail));
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
