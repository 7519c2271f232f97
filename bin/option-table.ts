/**
 * One option table per verb, read by both the parser (node:util parseArgs) and `VERB --help`, so
 * the help can never list a flag the parser does not take, or miss one it does. Also: an unknown
 * flag gets a did-you-mean from the same table, and a deprecated spelling (`--topics`) is parsed as
 * its replacement with a warning on stderr.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './cli-error.ts';

/** One option of a verb. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** Repeatable (`--topic a --topic b`); values arrive as an array. */
  readonly multiple?: boolean;
  readonly default?: string | boolean;
  /** The value's placeholder in the help (`--port N`). @default 'VALUE' for strings */
  readonly arg?: string;
  /** One line for `--help`. */
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
}

type Values<T extends OptionTable> = {
  -readonly [K in keyof T]?: T[K]['type'] extends 'boolean'
    ? boolean
    : T[K]['multiple'] extends true
      ? string[]
      : string;
};

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'show this help' };

/** The `--help` text of a command, generated from its table. */
export function helpText(spec: CommandSpec<OptionTable>): string {
  const rows = Object.entries({ ...spec.options, help: HELP }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    const notes = [o.multiple ? 'repeatable' : '', o.default !== undefined ? `default ${o.default}` : '']
      .filter(Boolean)
      .join('; ');
    return [flag, `${o.help}${notes ? ` (${notes})` : ''}`] as const;
  });
  const width = Math.max(...rows.map(([f]) => f.length)) + 2;
  const lines = rows.map(([f, h]) => `  ${f.padEnd(width)}${h}`);
  const old = Object.entries(spec.deprecated ?? {}).map(
    ([o, n]) => `  --${o} is a deprecated spelling of --${n}`,
  );
  return `${spec.usage}\n\nOptions:\n${[...lines, ...old].join('\n')}\n`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

/**
 * The known option nearest to `name`: the smallest edit distance within a third of its length (at
 * least 2), else the one it abbreviates (`--dump-a` → `dump-all`); undefined when nothing is near.
 */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  let abbreviates: string | undefined;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
    if (abbreviates === undefined && name.length >= 3 && k.startsWith(name)) abbreviates = k;
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.ceil(name.length / 3)) ? best : abbreviates;
}

/**
 * Parses `argv` with the command's table. Returns `help: true` when `--help`/`-h` was given.
 * Unknown flags are usage errors with a did-you-mean; deprecated spellings warn once on stderr.
 */
export function parseCommand<T extends OptionTable>(
  argv: readonly string[],
  spec: CommandSpec<T>,
): { values: Values<T>; positionals: string[]; help: boolean } {
  const args = argv.map((a) => {
    const m = /^--([^=]+)(=.*)?$/.exec(a);
    const to = m === null ? undefined : spec.deprecated?.[m[1]!];
    if (to === undefined) return a;
    process.stderr.write(`warning: --${m![1]} is deprecated: use --${to}\n`);
    return `--${to}${m![2] ?? ''}`;
  });
  const options = { ...spec.options, help: HELP } as Record<string, OptionSpec>;
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: options as ParseArgsConfig['options'],
    });
    const { help, ...rest } = values as Record<string, unknown>;
    return { values: rest as Values<T>, positionals, help: help === true };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const unknown = /Unknown option '(-{1,2}[^']+)'/.exec((error as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== undefined) {
      const near = didYouMean(unknown.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`unknown option ${unknown}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    if (code?.startsWith('ERR_PARSE_ARGS')) throw new UsageError((error as Error).message);
    throw error;
  }
}
