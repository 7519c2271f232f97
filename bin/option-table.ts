/**
 * One option table per verb, read by both the parser (node:util parseArgs) and `VERB --help`, so
 * the help can never list a flag the parser does not take, or miss one it does. Also: an unknown
 * flag gets a did-you-mean from the same table (core/config/did-you-mean.ts), and a deprecated
 * spelling (`--topics`) is parsed as its replacement with a warning on stderr.
 *
 * engine/cli-options.ts is a small copy of this for `cdc-cache engine` (engine/ imports nothing
 * from the rest of the repository).
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closestOption } from '../core/config/did-you-mean.ts';
import { UsageError } from './cli-error.ts';

/** One option of a verb. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Repeatable (`--topic a --topic b`); values arrive as an array. */
  readonly multiple?: boolean;
  /** A boolean that also takes `--no-NAME` (false); listed as `--[no-]NAME`. */
  readonly negatable?: boolean;
  readonly default?: string | boolean;
  /** The value's placeholder in the help (`--port N`). @default 'VALUE' for strings */
  readonly arg?: string;
  /** The environment variable the option overrides, shown as `[NAME]` in the help. */
  readonly env?: string;
  /** The help text; a `\n` starts an indented continuation line. */
  readonly help: string;
}

/** A verb's options by long name (without `--`). */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** A verb's command line: its usage lines, options and deprecated spellings. */
export interface CommandSpec<T extends OptionTable> {
  /** Usage lines (`cdc-cache record kafka --brokers … [options]`) and a sentence on what it does. */
  readonly usage: string;
  readonly options: T;
  /** Deprecated long name → the option it stands for (`{ topics: 'topic' }`). */
  readonly deprecated?: Readonly<Record<string, keyof T & string>>;
  /** Text printed after the options (settings that have no flag, environment variables). */
  readonly notes?: string;
}

type Value<O extends OptionSpec> = O['type'] extends 'boolean'
  ? boolean
  : O['multiple'] extends true
    ? string[]
    : string;

/** Parsed values: an option with a default is always present, any other may be missing. */
export type Values<T extends OptionTable> = {
  -readonly [K in keyof T as T[K] extends { default: string | boolean } ? K : never]: Value<T[K]>;
} & {
  -readonly [K in keyof T as T[K] extends { default: string | boolean } ? never : K]?: Value<T[K]>;
};

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

/** What {@link acceptedFlags} reads of a command. */
export interface FlagSource {
  readonly options: OptionTable;
  readonly deprecated?: Readonly<Record<string, string>>;
}

/** The flags the parser takes for `spec` (long names without `--`): options, negations, `help`, deprecated spellings. */
export function acceptedFlags(spec: FlagSource): string[] {
  return [
    ...Object.keys(spec.options),
    ...Object.entries(spec.options)
      .filter(([, o]) => o.negatable)
      .map(([n]) => `no-${n}`),
    'help',
    ...Object.keys(spec.deprecated ?? {}),
  ];
}

/** The `--help` text of a command, generated from its table. */
export function helpText(spec: CommandSpec<OptionTable>): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([name, o]) => {
    const long = `--${o.negatable ? '[no-]' : ''}${name}`;
    const flag = `${o.short ? `-${o.short}, ` : '    '}${long}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    const notes = [o.multiple ? 'repeatable' : '', o.default !== undefined ? `default ${o.default}` : '']
      .filter(Boolean)
      .join('; ');
    return [flag, `${o.help}${notes ? ` (${notes})` : ''}${o.env ? ` [${o.env}]` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  const lines = rows.map(([f, h]) => `  ${f.padEnd(width)}${h.split('\n').join(`\n  ${' '.repeat(width)}`)}`);
  const old = Object.entries(spec.deprecated ?? {}).map(
    ([o, n]) => `  --${o} is a deprecated spelling of --${n}`,
  );
  const notes = spec.notes === undefined ? '' : `\n${spec.notes.trimEnd()}\n`;
  return `${spec.usage}\n\nOptions:\n${[...lines, ...old].join('\n')}\n${notes}`;
}

/**
 * Words users reach for that name another option (the Lambda variable is CDC_CACHE_RULES, the
 * file is a rules file): suggested when the verb has that option and nothing is nearer by spelling.
 */
const SYNONYMS: Readonly<Record<string, string>> = {
  rules: 'config',
  'rules-file': 'config',
  file: 'config',
};

function unknownOption(flag: string, spec: FlagSource): UsageError {
  const name = flag.replace(/^-+/, '').replace(/=.*$/, '');
  const accepted = [...acceptedFlags(spec)];
  const synonym = SYNONYMS[name];
  const near =
    closestOption(name, accepted) ??
    (synonym !== undefined && accepted.includes(synonym) ? synonym : undefined);
  return new UsageError(`unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}`);
}

/**
 * Parses `argv` with the command's table. Returns `help: true` when `--help`/`-h` was given.
 * Unknown flags are usage errors with a did-you-mean; deprecated spellings warn once on stderr.
 */
export function parseCommand<T extends OptionTable>(
  argv: readonly string[],
  spec: CommandSpec<T>,
): { values: Values<T>; positionals: string[]; help: boolean } {
  const options = { ...spec.options, help: HELP } as Record<string, OptionSpec>;
  const args: string[] = [];
  for (const [i, a] of argv.entries()) {
    if (a === '--') {
      args.push(...argv.slice(i));
      break;
    }
    const m = /^--([^=]+)(=.*)?$/.exec(a);
    // `--no-NAME` only for negatable options (parseArgs' allowNegative would take it for any boolean).
    const negated = m?.[1]?.startsWith('no-') ? options[m[1].slice(3)] : undefined;
    if (negated !== undefined && !negated.negatable && !(m![1]! in options))
      throw unknownOption(`--${m![1]}`, spec);
    const to = m === null ? undefined : spec.deprecated?.[m[1]!];
    if (to !== undefined) process.stderr.write(`warning: --${m![1]} is deprecated: use --${to}\n`);
    args.push(to === undefined ? a : `--${to}${m![2] ?? ''}`);
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      allowNegative: Object.values(options).some((o) => o.negatable),
      strict: true,
      options: options as ParseArgsConfig['options'],
    });
    const { help, ...rest } = values as Record<string, unknown>;
    return { values: rest as Values<T>, positionals, help: help === true };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) throw unknownOption(unknown, spec);
    if (code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
}
