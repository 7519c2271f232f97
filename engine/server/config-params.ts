/**
 * How CONFIG SET checks a value of a Valkey 8 parameter the engine only stores: the parameter's
 * type as Valkey's config.c declares it (yes/no, enum, bounded integer with memory units or a
 * percentage, string with a validator, or one of the multi-argument specials), Valkey's error text
 * for a bad value, and the canonical form CONFIG GET then echoes (`1kb` → `1024`, `YES` → `yes`,
 * an enum's first name for its value). Aliases (`slave-*`, `*-ziplist-*`, `lua-time-limit`, …)
 * share their parameter's value. Parameters the engine acts on (maxmemory, timeout, …) are checked
 * by their own handlers in commands/config.ts; immutable ones never reach a value check.
 */

import { isIPv4, isIPv6 } from 'node:net';

const DEFRAG_REFUSED =
  'Active defragmentation cannot be enabled: it requires a server compiled with a modified Jemalloc like the one shipped by default with the source distribution';

/** The outcome of checking one value: the canonical value to store, or Valkey's error reason. */
export type ConfigCheck = { ok: string } | { error: string };

const INT_MAX = 2147483647n;
const INT_MIN = -2147483648n;
const UINT_MAX = 4294967295n;
const LONG_MAX = 9223372036854775807n;
const ULLONG_MAX = 18446744073709551615n;

interface NumSpec {
  min: bigint;
  max: bigint;
  /** Valkey's unsigned boundary check (size_t, unsigned int, unsigned long long). */
  unsigned?: boolean;
  /** Accepts memory units (`1kb`, `2gb`). */
  mem?: boolean;
  /** Clamps the stored value into [lo, hi] after the check, as an apply hook does (hz). */
  clamp?: [bigint, bigint];
}

type Spec =
  | { t: 'bool'; valid?: (on: boolean) => string | null }
  | {
      t: 'enum';
      values: readonly (readonly [string, number])[];
      multi?: boolean;
      valid?: (v: number) => string | null;
    }
  | ({ t: 'num' } & NumSpec)
  | { t: 'string'; valid?: (v: string) => string | null }
  | { t: 'special'; check: (v: string) => ConfigCheck };

const BOOLS =
  'activerehashing aof-load-truncated aof-rewrite-incremental-fsync aof-timestamp-enabled ' +
  'aof-use-rdb-preamble appendonly cluster-allow-pubsubshard-when-down cluster-allow-reads-when-down ' +
  'cluster-allow-replica-migration cluster-replica-no-failover cluster-require-full-coverage ' +
  'cluster-slot-stats-enabled crash-log-enabled crash-memcheck-enabled dual-channel-replication-enabled ' +
  'dynamic-hz extended-redis-compatibility hide-user-data-from-log jemalloc-bg-thread latency-tracking ' +
  'lazyfree-lazy-eviction lazyfree-lazy-expire lazyfree-lazy-server-del lazyfree-lazy-user-del ' +
  'lazyfree-lazy-user-flush no-appendfsync-on-rewrite protected-mode rdb-del-sync-files ' +
  'rdb-save-incremental-fsync rdbcompression repl-disable-tcp-nodelay repl-diskless-sync replica-announced ' +
  'replica-ignore-disk-write-errors replica-ignore-maxmemory replica-lazy-flush replica-read-only ' +
  'replica-serve-stale-data stop-writes-on-bgsave-error tls-cluster tls-prefer-server-ciphers ' +
  'tls-replication tls-session-caching';

const STRINGS =
  'availability-zone bind-source-addr cluster-announce-ip ignore-warnings primaryauth primaryuser replica-announce-ip tls-ca-cert-dir ' +
  'tls-ca-cert-file tls-cert-file tls-ciphers tls-ciphersuites tls-client-cert-file tls-client-key-file ' +
  'tls-client-key-file-pass tls-dh-params-file tls-key-file tls-key-file-pass tls-protocols dir';

const en = (...names: string[]) => names.map((n, i) => [n, i] as const);
const SHUTDOWN_FLAGS = [
  ['default', 0],
  ['save', 1],
  ['nosave', 2],
  ['now', 4],
  ['force', 8],
] as const;

const int = (min: bigint, max: bigint, more: Partial<NumSpec> = {}): Spec => ({
  t: 'num',
  min,
  max,
  ...more,
});
const sizeT = (min: bigint, mem = false): Spec => ({ t: 'num', min, max: LONG_MAX, unsigned: true, mem });

const SPECS = new Map<string, Spec>([
  ...BOOLS.split(' ').map((n) => [n, { t: 'bool' }] as [string, Spec]),
  ...STRINGS.split(' ').map((n) => [n, { t: 'string' }] as [string, Spec]),
  ['cluster-announce-hostname', { t: 'string', valid: hostnameProblem }],
  [
    'cluster-announce-client-ipv4',
    { t: 'string', valid: (v) => (v === '' || isIPv4(v) ? null : 'Invalid IPv4 address') },
  ],
  [
    'cluster-announce-client-ipv6',
    { t: 'string', valid: (v) => (v === '' || isIPv6(v) ? null : 'Invalid IPv6 address') },
  ],
  // This build of Valkey (Debian's, system jemalloc) refuses to enable active defragmentation.
  ['activedefrag', { t: 'bool', valid: (on) => (on ? DEFRAG_REFUSED : null) }],
  ['cluster-announce-human-nodename', { t: 'string', valid: nodenameProblem }],
  ['proc-title-template', { t: 'string', valid: procTitleProblem }],
  ['locale-collate', { t: 'string', valid: localeProblem }],
  ['dbfilename', { t: 'string', valid: dbfilenameProblem }],
  [
    'acl-pubsub-default',
    {
      t: 'enum',
      values: [
        ['allchannels', 1],
        ['resetchannels', 0],
      ],
    },
  ],
  ['appendfsync', { t: 'enum', values: en('everysec', 'always', 'no') }],
  ['cluster-preferred-endpoint-type', { t: 'enum', values: en('ip', 'hostname', 'unknown-endpoint') }],
  ['loglevel', { t: 'enum', values: en('debug', 'verbose', 'notice', 'warning', 'nothing') }],
  [
    'oom-score-adj',
    {
      t: 'enum',
      values: [
        ['no', 0],
        ['yes', 1],
        ['relative', 1],
        ['absolute', 2],
      ],
    },
  ],
  ['propagation-error-behavior', { t: 'enum', values: en('ignore', 'panic', 'panic-on-replicas') }],
  ['repl-diskless-load', { t: 'enum', values: en('disabled', 'on-empty-db', 'swapdb') }],
  ['sanitize-dump-payload', { t: 'enum', values: en('no', 'yes', 'clients') }],
  ['tls-auth-clients', { t: 'enum', values: en('no', 'yes', 'optional') }],
  ['shutdown-on-sigint', { t: 'enum', values: SHUTDOWN_FLAGS, multi: true, valid: shutdownProblem }],
  ['shutdown-on-sigterm', { t: 'enum', values: SHUTDOWN_FLAGS, multi: true, valid: shutdownProblem }],
  ['active-defrag-cycle-max', int(1n, 99n)],
  ['active-defrag-cycle-min', int(1n, 99n)],
  ['active-defrag-threshold-lower', int(0n, 1000n)],
  ['active-defrag-threshold-upper', int(0n, 1000n)],
  ['active-expire-effort', int(1n, 10n)],
  ['auto-aof-rewrite-percentage', int(0n, INT_MAX)],
  ['busy-reply-threshold', int(0n, LONG_MAX)],
  ['cluster-announce-bus-port', int(0n, 65535n)],
  ['cluster-announce-port', int(0n, 65535n)],
  ['cluster-announce-tls-port', int(0n, 65535n)],
  ['cluster-blacklist-ttl', int(-LONG_MAX - 1n, LONG_MAX)],
  ['cluster-migration-barrier', int(0n, INT_MAX)],
  ['cluster-node-timeout', int(0n, LONG_MAX)],
  ['cluster-replica-validity-factor', int(0n, INT_MAX)],
  ['cluster-link-sendbuf-limit', int(0n, ULLONG_MAX, { unsigned: true, mem: true })],
  ['events-per-io-thread', int(0n, INT_MAX)],
  ['hz', int(0n, INT_MAX, { clamp: [1n, 500n] })],
  ['latency-monitor-threshold', int(0n, LONG_MAX)],
  ['lfu-decay-time', int(0n, INT_MAX)],
  ['lfu-log-factor', int(0n, INT_MAX)],
  ['list-compress-depth', int(0n, INT_MAX)],
  ['list-max-listpack-size', int(INT_MIN, INT_MAX)],
  ['max-new-connections-per-cycle', int(1n, 1000n, { unsigned: true })],
  ['max-new-tls-connections-per-cycle', int(1n, 1000n, { unsigned: true })],
  ['maxclients', int(1n, UINT_MAX, { unsigned: true })],
  ['maxmemory-eviction-tenacity', int(0n, 100n)],
  ['maxmemory-samples', int(1n, 64n)],
  ['min-replicas-max-lag', int(0n, INT_MAX)],
  ['min-replicas-to-write', int(0n, INT_MAX)],
  ['prefetch-batch-max-size', int(0n, 128n)],
  // Valkey raises a backlog below 16 KB to 16 KB when it applies the value.
  ['repl-backlog-size', int(1n, LONG_MAX, { mem: true, clamp: [16384n, LONG_MAX] })],
  ['repl-backlog-ttl', int(0n, LONG_MAX)],
  ['repl-diskless-sync-delay', int(0n, INT_MAX)],
  ['repl-diskless-sync-max-replicas', int(0n, INT_MAX)],
  ['repl-ping-replica-period', int(1n, INT_MAX)],
  ['repl-timeout', int(1n, INT_MAX)],
  ['replica-announce-port', int(0n, 65535n)],
  ['replica-priority', int(0n, INT_MAX)],
  ['shutdown-timeout', int(0n, INT_MAX)],
  ['slowlog-log-slower-than', int(-1n, LONG_MAX)],
  ['slowlog-max-len', int(0n, LONG_MAX)],
  ['acllog-max-len', int(0n, LONG_MAX)],
  ['active-defrag-max-scan-fields', int(1n, LONG_MAX)],
  ['stream-node-max-entries', int(0n, LONG_MAX)],
  ['tcp-keepalive', int(0n, INT_MAX)],
  ['timeout', int(0n, INT_MAX)],
  ['tracking-table-max-keys', sizeT(0n)],
  ['tls-port', int(0n, 65535n)],
  ['tls-session-cache-size', int(0n, INT_MAX)],
  ['tls-session-cache-timeout', int(0n, INT_MAX)],
  ['hash-max-listpack-entries', sizeT(0n)],
  ['set-max-intset-entries', sizeT(0n)],
  ['set-max-listpack-entries', sizeT(0n)],
  ['set-max-listpack-value', sizeT(0n)],
  ['zset-max-listpack-entries', sizeT(0n)],
  ['active-defrag-ignore-bytes', sizeT(1n, true)],
  ['hash-max-listpack-value', sizeT(0n, true)],
  ['stream-node-max-bytes', sizeT(0n, true)],
  ['zset-max-listpack-value', sizeT(0n, true)],
  ['hll-sparse-max-bytes', sizeT(0n, true)],
  ['auto-aof-rewrite-min-size', int(0n, LONG_MAX, { mem: true })],
  ['save', { t: 'special', check: checkSave }],
  ['oom-score-adj-values', { t: 'special', check: checkOomScoreAdjValues }],
  ['latency-tracking-info-percentiles', { t: 'special', check: checkPercentiles }],
]);

/** Alias → the parameter it names (both answer CONFIG GET; they share one value). */
export const CONFIG_ALIASES: ReadonlyMap<string, string> = new Map([
  ['cluster-slave-no-failover', 'cluster-replica-no-failover'],
  ['slave-lazy-flush', 'replica-lazy-flush'],
  ['slave-serve-stale-data', 'replica-serve-stale-data'],
  ['slave-read-only', 'replica-read-only'],
  ['slave-ignore-maxmemory', 'replica-ignore-maxmemory'],
  ['slave-announce-ip', 'replica-announce-ip'],
  ['masteruser', 'primaryuser'],
  ['masterauth', 'primaryauth'],
  ['server_cpulist', 'server-cpulist'],
  ['bio_cpulist', 'bio-cpulist'],
  ['aof_rewrite_cpulist', 'aof-rewrite-cpulist'],
  ['bgsave_cpulist', 'bgsave-cpulist'],
  ['cluster-slave-validity-factor', 'cluster-replica-validity-factor'],
  ['list-max-ziplist-size', 'list-max-listpack-size'],
  ['slave-priority', 'replica-priority'],
  ['slave-announce-port', 'replica-announce-port'],
  ['repl-ping-slave-period', 'repl-ping-replica-period'],
  ['min-slaves-to-write', 'min-replicas-to-write'],
  ['min-slaves-max-lag', 'min-replicas-max-lag'],
  ['lua-time-limit', 'busy-reply-threshold'],
  ['hash-max-ziplist-entries', 'hash-max-listpack-entries'],
  ['hash-max-ziplist-value', 'hash-max-listpack-value'],
  ['zset-max-ziplist-entries', 'zset-max-listpack-entries'],
  ['zset-max-ziplist-value', 'zset-max-listpack-value'],
  ['slaveof', 'replicaof'],
]);

/** The parameter an alias (or the name itself) stands for. */
export function canonicalParam(name: string): string {
  return CONFIG_ALIASES.get(name) ?? name;
}

/**
 * Checks `value` for the stored-only parameter `name` (canonical, lower case) as Valkey's CONFIG
 * SET does; a parameter with no declared type accepts any value (as Valkey's string parameters do).
 */
export function checkConfigValue(name: string, value: string): ConfigCheck {
  const spec = SPECS.get(name);
  if (spec === undefined) return { ok: value };
  switch (spec.t) {
    case 'bool': {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: "argument must be 'yes' or 'no'" };
      const problem = spec.valid?.(v === 'yes') ?? null;
      return problem === null ? { ok: v } : { error: problem };
    }
    case 'enum':
      return checkEnum(spec.values, spec.multi === true, spec.valid, value);
    case 'num':
      return checkNumber(spec, value);
    case 'string': {
      const problem = spec.valid?.(value) ?? null;
      return problem === null ? { ok: value } : { error: problem };
    }
    case 'special':
      return spec.check(value);
  }
}

function checkEnum(
  values: readonly (readonly [string, number])[],
  multi: boolean,
  valid: ((v: number) => string | null) | undefined,
  value: string,
): ConfigCheck {
  // A multi-argument parameter splits its value on single spaces (empty pieces included).
  const parts = multi ? (value === '' ? [] : value.split(' ')) : [value];
  let bits = 0;
  let ok = parts.length > 0;
  for (const p of parts) {
    const hits = values.filter(([n]) => n === p.toLowerCase());
    if (hits.length === 0) ok = false;
    for (const [, v] of hits) bits |= v;
  }
  if (!ok) return { error: `argument(s) must be one of the following: ${values.map(([n]) => n).join(', ')}` };
  const problem = valid?.(bits) ?? null;
  if (problem !== null) return { error: problem };
  return { ok: enumName(values, bits, multi) };
}

/** Valkey's configEnumGetName: the first name of the value, or the flag names high to low. */
function enumName(values: readonly (readonly [string, number])[], bits: number, multi: boolean): string {
  const exact = values.find(([, v]) => v === bits);
  if (exact !== undefined) return exact[0];
  if (!multi) return 'unknown';
  const names: string[] = [];
  let left = bits;
  for (const [n, v] of values)
    if (v !== 0 && (left & v) === v) {
      names.push(n);
      left &= ~v;
    }
  return left === 0 && names.length > 0 ? names.join(' ') : 'unknown';
}

/** Valkey's string2ll: no sign but `-`, no leading zeros, no spaces, within 64 bits. */
function string2ll(s: string): bigint | null {
  if (!/^(?:0|-?[1-9]\d*)$/.test(s) || s.length > 20) return null;
  const n = BigInt(s);
  return n < -LONG_MAX - 1n || n > LONG_MAX ? null : n;
}

/** Valkey's memtoull: digits and an optional b/k/kb/m/mb/g/gb unit, as an unsigned 64-bit value. */
export function memtoull(s: string): bigint | null {
  const m = /^(\d*)(b|k|kb|m|mb|g|gb)?$/i.exec(s);
  if (m === null) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const mul = { b: 1n, k: 1000n, kb: 1024n, m: 1000000n, mb: 1048576n, g: 1000000000n, gb: 1073741824n }[
    unit
  ]!;
  if (m[1]!.length >= 128) return null;
  let n = m[1] === '' ? 0n : BigInt(m[1]!);
  if (n > ULLONG_MAX) n = ULLONG_MAX; // strtoull saturates
  return n > ULLONG_MAX / mul ? null : n * mul;
}

/** The signed 64-bit value of an unsigned one, as C's cast to long long gives. */
const asSigned = (n: bigint): bigint => BigInt.asIntN(64, n);

function checkNumber(spec: NumSpec, value: string): ConfigCheck {
  let n: bigint | null = null;
  if (spec.mem) {
    const u = memtoull(value);
    if (u !== null) n = asSigned(u);
  } else n = string2ll(value);
  if (n === null)
    return {
      error: spec.mem ? 'argument must be a memory value' : "argument couldn't be parsed into an integer",
    };
  const outside = spec.unsigned
    ? BigInt.asUintN(64, n) > spec.max || BigInt.asUintN(64, n) < spec.min
    : n > spec.max || n < spec.min;
  if (outside) return { error: `argument must be between ${spec.min} and ${spec.max} inclusive` };
  if (spec.clamp !== undefined) n = n < spec.clamp[0] ? spec.clamp[0] : n > spec.clamp[1] ? spec.clamp[1] : n;
  return { ok: String(spec.mem || spec.unsigned ? BigInt.asUintN(64, n) : n) };
}

/** C's strtoll on a whole argument: leading spaces, a sign, digits (saturating); null if junk follows. */
function strtollWhole(s: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(s);
  if (m === null) return s === '' ? 0n : null;
  const n = BigInt(m[2]!) * (m[1] === '-' ? -1n : 1n);
  return n > LONG_MAX ? LONG_MAX : n < -LONG_MAX - 1n ? -LONG_MAX - 1n : n;
}

function checkSave(value: string): ConfigCheck {
  const parts = value === '' ? [] : value.split(' ');
  const bad = { error: 'Invalid save parameters' };
  if (parts.length % 2 === 1) return bad;
  const out: string[] = [];
  for (let j = 0; j < parts.length; j++) {
    const n = strtollWhole(parts[j]!);
    if (n === null || (j % 2 === 0 && n < 1n) || (j % 2 === 1 && n < 0n)) return bad;
    out.push(String(j % 2 === 0 ? n : BigInt.asIntN(32, n)));
  }
  return { ok: out.join(' ') };
}

function checkOomScoreAdjValues(value: string): ConfigCheck {
  const parts = value === '' ? [] : value.split(' ');
  if (parts.length !== 3) return { error: 'wrong number of arguments' };
  const out: string[] = [];
  for (const p of parts) {
    const n = strtollWhole(p);
    if (n === null || n < -2000n || n > 2000n)
      return { error: 'Invalid oom-score-adj-values, elements must be between -2000 and 2000.' };
    out.push(String(n));
  }
  return { ok: out.join(' ') };
}

function checkPercentiles(value: string): ConfigCheck {
  const parts = value.split(' ');
  if (parts.length === 1 && parts[0] === '') return { ok: '' };
  const out: string[] = [];
  for (const p of parts) {
    // string2d: strtod over the whole argument, no leading space, no NaN.
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(p) && !/^[+-]?inf(inity)?$/i.test(p))
      return { error: 'Invalid latency-tracking-info-percentiles parameters' };
    const n = Number(p);
    if (n > 100 || n < 0)
      return { error: 'latency-tracking-info-percentiles parameters should sit between [0.0,100.0]' };
    // "%f" then trailing zeros (and a trailing dot) trimmed.
    out.push(n.toFixed(6).replace(/\.?0+$/, ''));
  }
  return { ok: out.join(' ') };
}

function shutdownProblem(bits: number): string | null {
  return (bits & 1) !== 0 && (bits & 2) !== 0
    ? "shutdown options SAVE and NOSAVE can't be used simultaneously"
    : null;
}

function hostnameProblem(v: string): string | null {
  if (v.length >= 256) return 'Hostnames must be less than 256 characters';
  if (!/^[A-Za-z0-9.-]*$/.test(v))
    return 'Hostnames may only contain alphanumeric characters, hyphens or dots';
  return null;
}

function nodenameProblem(v: string): string | null {
  return /[!#$%&()*+;<>?@[\]^{|}~\0]/.test(v)
    ? 'Announced human node name contained invalid character'
    : null;
}

const PROC_TITLE_VARS = new Set([
  'title',
  'listen-addr',
  'server-mode',
  'port',
  'tls-port',
  'unixsocket',
  'config-file',
]);

/** Valkey's validateProcTitleTemplate: `{var}` of known names, `{{`/`}}` escapes, not blank. */
function procTitleProblem(v: string): string | null {
  const bad = 'template format is invalid or contains unknown variables';
  let out = '';
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '{' && v[i + 1] === '{') {
      out += '{';
      i++;
    } else if (c === '}' && v[i + 1] === '}') {
      out += '}';
      i++;
    } else if (c === '}') return bad;
    else if (c === '{') {
      const end = v.indexOf('}', i);
      if (end < 0 || !PROC_TITLE_VARS.has(v.slice(i + 1, end))) return bad;
      out += 'x';
      i = end;
    } else out += c;
  }
  return out.trim() === '' ? bad : null;
}

function dbfilenameProblem(v: string): string | null {
  if (v === '') return "dbfilename can't be empty";
  return v.includes('/') ? "dbfilename can't be a path, just a filename" : null;
}

/** Locales the engine accepts for locale-collate (it has no setlocale; these always exist). */
function localeProblem(v: string): string | null {
  return ['', 'C', 'POSIX', 'C.UTF-8', 'C.utf8'].includes(v) ? null : 'Invalid locale name';
}
