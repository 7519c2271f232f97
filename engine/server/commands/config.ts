/**
 * CONFIG GET/SET/RESETSTAT/HELP with Valkey 8's parameter names and rules.
 *
 * The engine acts on: maxmemory (0 = the default share of the heap, never unlimited),
 * maxmemory-policy, maxmemory-clients, proto-max-bulk-len (capped at the longest V8 string),
 * client-query-buffer-limit, client-output-buffer-limit, timeout, requirepass (not removable on a
 * non-loopback bind unless enable-protected-configs), notify-keyspace-events,
 * tracking-table-max-keys, lfu-log-factor and lfu-decay-time (the LFU counter: keyspace.ts); port,
 * bind and databases are read-only. Every other Valkey 8 parameter (valkey-config-defaults.ts) is checked as Valkey checks it (config-params.ts: type, bounds,
 * units, enum names, Valkey's error text), stored in its canonical form and echoed by CONFIG GET,
 * with no effect on the engine.
 *
 * CONFIG SET is atomic as Valkey's: names are looked up first (unknown, immutable, protected and
 * duplicate names fail before any value is read, the first such error wins), then every value is
 * checked in order and the first bad one fails the whole call; only then are all changes applied.
 */
import { type EvictionPolicyValue, isEvictionPolicy } from '../../eviction.ts';
import { globMatch } from '../../glob.ts';
import { defaultMaxmemory, maxmemoryProblem } from '../../memory.ts';
import {
  formatOutputBufferLimits,
  parseOutputBufferLimits,
  replicaOutputBufferLimit,
} from '../client-limits.ts';
import { type CommandContext, Err, type OutputBufferLimit, ReplyError } from '../command-context.ts';
import {
  CONFIG_ALIASES,
  type ConfigCheck,
  canonicalParam,
  checkConfigValue,
  memtoull,
} from '../config-params.ts';
import { formatKeyspaceEventFlags, parseKeyspaceEventFlags } from '../keyspace-events.ts';
import { MAX_PROTO_MAX_BULK_LEN, QUERY_BUFFER_LIMIT } from '../resp-parser.ts';
import { TLS_FILE_PARAMS, tlsMaterialFrom } from '../tls-port.ts';
import { VALKEY_CONFIG_DEFAULTS } from '../valkey-config-defaults.ts';
import { configureEncodingLimit } from './encoding-limits.ts';

/** Mutability of each Valkey parameter (aliases included). */
const VALKEY_PARAMS = new Map(VALKEY_CONFIG_DEFAULTS.map(([name, , m]) => [name, m]));

/** Stored values of the parameters the engine only echoes, per server, by canonical name. */
const storedConfigs = new WeakMap<object, Map<string, string>>();

function stored(ctx: CommandContext): Map<string, string> {
  let m = storedConfigs.get(ctx.server);
  if (m === undefined) {
    m = new Map();
    for (const [name, value] of VALKEY_CONFIG_DEFAULTS) if (!CONFIG_ALIASES.has(name)) m.set(name, value);
    m.set('dir', process.cwd());
    storedConfigs.set(ctx.server, m);
  }
  return m;
}

/** The replica-class output buffer limits set per server (only echoed: the engine has no replicas). */
const replicaLimits = new WeakMap<object, OutputBufferLimit>();

function engineConfigValues(ctx: CommandContext): Map<string, string> {
  const s = ctx.server;
  return new Map([
    ['maxmemory', String(ctx.core.maxmemory)],
    ['maxmemory-policy', ctx.core.policy],
    ['maxmemory-clients', String(s.maxmemoryClients)],
    ['proto-max-bulk-len', String(s.protoMaxBulkLen)],
    ['client-query-buffer-limit', String(s.clientQueryBufferLimit)],
    ['client-output-buffer-limit', formatOutputBufferLimits(s.clientOutputBufferLimit, replicaLimits.get(s))],
    ['requirepass', s.requirepass ?? ''],
    ['enable-protected-configs', s.enableProtectedConfigs ? 'yes' : 'no'],
    ['port', String(s.port)],
    ['bind', s.tcpBind],
    ['databases', '1'],
    ['timeout', String(s.timeout)],
    ['notify-keyspace-events', formatKeyspaceEventFlags(s.keyspaceEvents.flags)],
    ['tracking-table-max-keys', String(s.tracking.maxKeys)],
    ['tls-port', String(s.tlsOnMainPort ? s.port : s.tlsPort.port)],
  ]);
}

/** The value CONFIG GET shows for `name` (a parameter or an alias, lower case). */
function shownValue(ctx: CommandContext, engineValues: Map<string, string>, name: string): string {
  const canonical = canonicalParam(name);
  return engineValues.get(canonical) ?? stored(ctx).get(canonical) ?? '';
}

/** `fail` throws CONFIG SET's error for one argument. */
type Fail = (why: string) => never;

/** The number a checked value holds, or the check's error. */
function checked(result: ConfigCheck, fail: Fail): number {
  if ('error' in result) fail(result.error);
  return Number((result as { ok: string }).ok);
}

/** Checks one CONFIG SET value; returns the change to apply once every value was checked. */
function configChange(ctx: CommandContext, name: string, value: string, fail: Fail): () => void {
  const s = ctx.server;
  const size = (min: number, max: number): number => {
    const u = memtoull(value);
    if (u === null) fail('argument must be a memory value');
    const n = Number(BigInt.asIntN(64, u!));
    if (n < min || n > max) fail(`argument must be between ${min} and ${max} inclusive`);
    return n;
  };
  switch (name) {
    case 'maxmemory': {
      const u = memtoull(value);
      if (u === null) fail('argument must be a memory value');
      // 0 means "no limit" in Valkey; a served engine without a limit dies at the heap limit, so
      // 0 restores the default share instead (see engine/README.md).
      const n = u === 0n ? defaultMaxmemory() : Number(u);
      const problem = maxmemoryProblem(n);
      if (problem !== null) fail(problem);
      return () => ctx.engine.configureMemory(n);
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
      const pct = /^(0|[1-9]\d*)%$/.exec(value);
      if (pct === null && memtoull(value) === null) fail('argument must be a memory or percent value');
      if (pct !== null && Number(pct[1]) > 100) fail('percentage argument must be less or equal to 100');
      const n =
        pct !== null
          ? Math.floor((ctx.core.maxmemory * Number(pct[1])) / 100)
          : size(-100, Number.MAX_SAFE_INTEGER);
      return () => {
        s.maxmemoryClients = n;
      };
    }
    case 'client-output-buffer-limit': {
      if (value === '') return () => {}; // Valkey: no class given, nothing changes
      const parsed = parseOutputBufferLimits(value);
      if (typeof parsed === 'string') fail(parsed);
      const replica = replicaOutputBufferLimit(value);
      return () => {
        Object.assign(s.clientOutputBufferLimit, parsed);
        if (replica !== null) replicaLimits.set(s, replica);
      };
    }
    case 'timeout': {
      const n = checked(checkConfigValue('timeout', value), fail);
      return () => {
        s.timeout = n;
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
      const n = checked(checkConfigValue('tracking-table-max-keys', value), fail);
      return () => {
        s.tracking.maxKeys = n;
      };
    }
    case 'port':
    case 'bind':
      return fail('the engine does not rebind at run time (restart it with the new address)');
    case 'tls-port':
      checked(checkConfigValue('tls-port', value), fail);
      if (s.tlsOnMainPort)
        fail(
          'the engine serves TLS on its port (started with tls and no tlsPort); restart it with tlsPort to serve both',
        );
      return () => {}; // applied by applyTls once every value was checked
    default: {
      const canonical = canonicalParam(name);
      const result = checkConfigValue(canonical, value);
      if ('error' in result) fail(result.error);
      // Valkey configures TLS for the cluster bus or replication at once: without a certificate it fails.
      if ((canonical === 'tls-cluster' || canonical === 'tls-replication') && result.ok === 'yes')
        if (stored(ctx).get('tls-cert-file') === '')
          fail('Unable to update TLS configuration. Check server logs.');
      return () => {
        const ok = (result as { ok: string }).ok;
        stored(ctx).set(canonical, ok);
        configureEncodingLimit(ctx.server, canonical, ok);
        if (canonical === 'lfu-log-factor') ctx.core.keyspace.lfuLogFactor = Number(ok);
        else if (canonical === 'lfu-decay-time') ctx.core.keyspace.lfuDecayTime = Number(ok);
      };
    }
  }
}

function configSet(ctx: CommandContext, a: string[]): void | Promise<void> {
  if (a.length % 2 === 1) throw new ReplyError(Err.syntax);
  // Phase 1, names (Valkey's order): the first unknown, immutable, protected or repeated name fails.
  const names: string[] = [];
  for (let i = 2; i < a.length; i += 2) {
    const given = a[i]!;
    const name = given.toLowerCase();
    const m = VALKEY_PARAMS.get(name);
    if (m === undefined)
      throw new ReplyError(`ERR Unknown option or number of arguments for CONFIG SET - '${given}'`);
    const why =
      m === 'i'
        ? "can't set immutable config"
        : m === 'p' && !ctx.server.enableProtectedConfigs
          ? "can't set protected config"
          : names.includes(name)
            ? 'duplicate parameter'
            : null;
    if (why !== null)
      throw new ReplyError(`ERR CONFIG SET failed (possibly related to argument '${given}') - ${why}`);
    names.push(name);
  }
  // Phase 2, values in order: the first bad one fails the call and nothing is applied.
  const changes = names.map((name, j) =>
    configChange(ctx, name, a[3 + 2 * j]!, (why: string): never => {
      throw new ReplyError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`);
    }),
  );
  const tlsAt = names.findIndex((n) => n === 'tls-port' || TLS_FILE_PARAMS.has(n));
  if (tlsAt < 0) {
    for (const c of changes) c();
    ctx.w.simple('OK');
    return;
  }
  const before = new Map(names.map((n) => [canonicalParam(n), stored(ctx).get(canonicalParam(n)) ?? '']));
  for (const c of changes) c();
  const portAt = names.indexOf('tls-port');
  const port = portAt >= 0 ? Number(a[3 + 2 * portAt]) : ctx.server.tlsPort.port;
  return applyTls(ctx, a[2 + 2 * (portAt >= 0 ? portAt : tlsAt)]!, port, () => {
    for (const [n, v] of before) stored(ctx).set(n, v);
  });
}

/**
 * Brings the `tls-port` listener in line with a CONFIG SET that named tls-port or a TLS file
 * (tls-port.ts): closes it for 0, (re)starts it on a new port, reloads the certificate on the same
 * one. A certificate that does not load, or a port that cannot be bound, fails with Valkey's
 * error and `undo` puts the stored TLS values back (other parameters of the call stay applied).
 */
function applyTls(ctx: CommandContext, given: string, port: number, undo: () => void): void | Promise<void> {
  const listener = ctx.server.tlsPort;
  const fail = (why: string): never => {
    undo();
    throw new ReplyError(`ERR CONFIG SET failed (possibly related to argument '${given}') - ${why}`);
  };
  if (port === 0) {
    void listener.close();
    ctx.w.simple('OK');
    return;
  }
  const material = tlsMaterialFrom((n) => stored(ctx).get(n) ?? '', ctx.server.tlsMaterial);
  if (material === null) return fail('Unable to update TLS configuration. Check server logs.');
  if (listener.listening && port === listener.port) {
    listener.reload(material);
    ctx.w.simple('OK');
    return;
  }
  return listener.listen(port, material).then(
    () => ctx.w.simple('OK'),
    () => fail('Unable to listen on this port. Check server logs.'),
  );
}

function configGet(ctx: CommandContext, a: string[]): void {
  const engineValues = engineConfigValues(ctx);
  const out = new Map<string, string>();
  for (let i = 2; i < a.length; i++) {
    const pattern = a[i]!;
    if (!/[[*?]/.test(pattern)) {
      // An exact name is looked up case-insensitively and answered as it was asked.
      if (VALKEY_PARAMS.has(pattern.toLowerCase()) && !out.has(pattern))
        out.set(pattern, shownValue(ctx, engineValues, pattern.toLowerCase()));
      continue;
    }
    const lower = pattern.toLowerCase();
    for (const name of VALKEY_PARAMS.keys())
      if (!out.has(name) && globMatch(lower, name)) out.set(name, shownValue(ctx, engineValues, name));
  }
  ctx.w.map(out.size);
  for (const [k, v] of out) {
    ctx.w.bulk(k);
    ctx.w.bulk(v);
  }
}

/** CONFIG and its subcommands. */
export function config(ctx: CommandContext, a: string[]): void | Promise<void> {
  const sub = a[1]!.toLowerCase();
  if (sub === 'get') {
    if (a.length < 3) throw new ReplyError(Err.arity('config|get'));
    configGet(ctx, a);
    return;
  }
  if (sub === 'set') {
    if (a.length < 4) throw new ReplyError(Err.arity('config|set'));
    return configSet(ctx, a);
  }
  if (sub === 'resetstat' && a.length === 2) {
    ctx.w.simple('OK');
    return;
  }
  throw new ReplyError(`ERR unknown subcommand '${a[1]!.slice(0, 128)}'. Try CONFIG HELP.`);
}
