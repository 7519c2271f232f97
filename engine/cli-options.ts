/**
 * The options of `cdc-cache engine`: one table read by both the parser (node:util parseArgs) and
 * `engine --help`, so the help lists exactly the flags the parser takes.
 *
 * This is a small copy of bin/option-table.ts's table type and help generator: engine/ imports
 * nothing from the rest of the repository (it is published and used on its own), so it cannot use
 * that module. An unknown flag is thrown as parseArgs' ERR_PARSE_ARGS_UNKNOWN_OPTION; the
 * `cdc-cache` command turns it into a did-you-mean from {@link ENGINE_OPTIONS}.
 */
import { parseArgs } from 'node:util';
import { SERVER_DEFAULT_POLICY } from './server/server.ts';

/** One option of `cdc-cache engine` (the shape of bin/option-table.ts's OptionSpec). */
export interface EngineOptionSpec {
  readonly type: 'string' | 'boolean';
  readonly default?: string;
  /** The value's placeholder in the help (`--port N`). */
  readonly arg?: string;
  /** The help text; a `\n` starts an indented continuation line. */
  readonly help: string;
}

/** The options of `cdc-cache engine` by long name (without `--`); `--help`/`-h` comes on top. */
export const ENGINE_OPTIONS = {
  port: { type: 'string', default: '6380', arg: 'N', help: 'TCP port (0 = any free port)' },
  bind: { type: 'string', default: '127.0.0.1', arg: 'ADDR', help: 'address to listen on' },
  maxmemory: {
    type: 'string',
    default: '0',
    arg: 'SIZE',
    help: "memory limit, e.g. 100mb, 2gb (0: half of V8's old-generation limit; at most 80%\nof it; node --max-old-space-size sets that limit)",
  },
  'maxmemory-policy': {
    type: 'string',
    default: SERVER_DEFAULT_POLICY,
    arg: 'P',
    help: 'noeviction | allkeys-lru | volatile-lru | allkeys-lfu | volatile-lfu |\nallkeys-random | volatile-random | volatile-ttl',
  },
  requirepass: { type: 'string', arg: 'PW', help: 'require AUTH; mandatory for a non-loopback --bind' },
  'enable-protected-configs': {
    type: 'string',
    default: 'no',
    arg: 'yes|no',
    help: 'allow CONFIG SET requirepass "" on a non-loopback bind',
  },
  'proto-max-bulk-len': {
    type: 'string',
    arg: 'SIZE',
    help: "longest accepted value (default and most: 536870888, V8's longest string)",
  },
  'client-query-buffer-limit': {
    type: 'string',
    arg: 'SIZE',
    help: 'most bytes one pending request may hold (default 1gb)',
  },
  'client-output-buffer-limit': {
    type: 'string',
    arg: '"normal HARD SOFT SECONDS [pubsub HARD SOFT SECONDS]"',
    help: 'close clients whose unread replies pass HARD, or stay above SOFT for SECONDS\n(default "normal 0 0 0 pubsub 32mb 8mb 60")',
  },
  'maxmemory-clients': {
    type: 'string',
    default: '0',
    arg: 'SIZE',
    help: 'most bytes all clients together may buffer (0 = no limit)',
  },
  timeout: { type: 'string', default: '0', arg: 'SECONDS', help: 'close clients idle this long (0 = never)' },
  unixsocket: { type: 'string', arg: 'PATH', help: 'also listen on a Unix socket (plain, mode 0700)' },
  'tls-cert': { type: 'string', arg: 'FILE', help: 'serve TLS instead of plain TCP (with --tls-key)' },
  'tls-key': { type: 'string', arg: 'FILE', help: "the TLS certificate's private key (with --tls-cert)" },
  'tls-port': {
    type: 'string',
    arg: 'PORT',
    help: 'serve TLS on this port and plain TCP on --port, as Valkey (with --tls-cert)',
  },
} as const satisfies Record<string, EngineOptionSpec>;

const HELP_OPTION = { type: 'boolean', help: 'show this help' } as const;

/** Help text for `cdc-cache engine`, generated from {@link ENGINE_OPTIONS}. */
export const HELP = (() => {
  const rows = Object.entries({ ...ENGINE_OPTIONS, help: HELP_OPTION } as Record<
    string,
    EngineOptionSpec
  >).map(([name, o]) => {
    const flag = `${name === 'help' ? '-h, ' : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    return [flag, `${o.help}${o.default !== undefined ? ` (default ${o.default})` : ''}`] as const;
  });
  // The longest placeholder goes on a line of its own rather than widening every row.
  const width = Math.max(...rows.map(([f]) => f.length).filter((n) => n <= 40)) + 2;
  const lines = rows.map(([f, h]) => {
    const pad = `\n  ${' '.repeat(width)}`;
    const text = h.split('\n').join(pad);
    return f.length + 2 > width ? `  ${f}${pad}${text}` : `  ${f.padEnd(width)}${text}`;
  });
  return `Usage: cdc-cache engine [options]

Serve the cdc-cache engine over the Valkey protocol (valkey-cli, valkey-benchmark, iovalkey).

Options:
${lines.join('\n')}
`;
})();

/**
 * Parses `cdc-cache engine` arguments with {@link ENGINE_OPTIONS}. Throws parseArgs' errors
 * (ERR_PARSE_ARGS_UNKNOWN_OPTION for an unknown flag).
 */
export function parseEngineArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: { ...ENGINE_OPTIONS, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  }).values;
}
