/**
 * Every verb's command line, table-driven: `VERB --help` lists exactly the flags its parser accepts
 * (each listed flag parses, nothing else does), the help the CLI prints is the one generated from
 * that table, and an unknown flag exits 2 with a did-you-mean naming the flag meant.
 */
import { describe, expect, it, vi } from 'vitest';
import { CONSUME_COMMAND } from '../../../bin/commands/consume.ts';
import { DEAD_LETTERS_COMMAND } from '../../../bin/commands/dead-letters.ts';
import { DECODE_COMMAND } from '../../../bin/commands/decode.ts';
import { LAMBDA_KAFKA_SOURCE_COMMAND, LAMBDA_SERVE_COMMAND } from '../../../bin/commands/lambda.ts';
import { RECORD_COMMAND } from '../../../bin/commands/record.ts';
import { REPLAY_COMMAND } from '../../../bin/commands/replay.ts';
import { VERIFY_COMMAND } from '../../../bin/commands/verify.ts';
import {
  acceptedFlags,
  type CommandSpec,
  helpText,
  type OptionTable,
  parseCommand,
} from '../../../bin/option-table.ts';
import { HELP as ENGINE_HELP, ENGINE_OPTIONS } from '../../../engine/cli.ts';
import { parseEngineArgs } from '../../../engine/cli-options.ts';
import { runCli } from '../../support/cli.ts';

interface Verb {
  /** The words before the flags (`lambda serve`). */
  readonly argv: readonly string[];
  readonly help: string;
  /** Long flags the parser should take, without `--`. */
  readonly accepted: readonly string[];
  /** Long flags that take a value. */
  readonly withValue: ReadonlySet<string>;
  /** Parses flags as the verb does; throws on an unknown one. */
  readonly parse: (args: string[]) => unknown;
}

function fromTable(argv: readonly string[], spec: CommandSpec<OptionTable>): Verb {
  return {
    argv,
    help: helpText(spec),
    accepted: acceptedFlags(spec),
    withValue: new Set(
      Object.entries({ ...spec.options, ...spec.deprecated })
        .filter(([, o]) => (typeof o === 'string' ? spec.options[o]!.type : o.type) === 'string')
        .map(([n]) => n),
    ),
    parse: (args) => parseCommand(args, spec),
  };
}

const VERBS: readonly Verb[] = [
  fromTable(['decode'], DECODE_COMMAND),
  fromTable(['replay'], REPLAY_COMMAND),
  fromTable(['record'], RECORD_COMMAND),
  fromTable(['consume'], CONSUME_COMMAND),
  fromTable(['verify'], VERIFY_COMMAND),
  fromTable(['dead-letters'], DEAD_LETTERS_COMMAND),
  fromTable(['lambda', 'serve'], LAMBDA_SERVE_COMMAND),
  fromTable(['lambda', 'kafka-source'], LAMBDA_KAFKA_SOURCE_COMMAND),
  {
    argv: ['engine'],
    help: ENGINE_HELP,
    accepted: [...Object.keys(ENGINE_OPTIONS), 'help'],
    withValue: new Set(Object.keys(ENGINE_OPTIONS)),
    parse: parseEngineArgs,
  },
];

/** The long flags a help text lists: its option rows (`--[no-]http` is two) and deprecated spellings. */
function listedFlags(help: string): string[] {
  const flags: string[] = [];
  for (const line of help.split('\n')) {
    const row = /^ {2}(?:-[a-zA-Z], | {4})--(\[no-\])?([a-z][a-z0-9-]*)/.exec(line);
    if (row !== null) flags.push(row[2]!, ...(row[1] ? [`no-${row[2]}`] : []));
    const old = /^ {2}--([a-z][a-z0-9-]*) is a deprecated spelling of --/.exec(line);
    if (old !== null) flags.push(old[1]!);
  }
  return flags.sort();
}

/** A near miss of `flag`: its second-to-last letter dropped (`source` → `soure`). */
const typo = (flag: string): string => flag.slice(0, -2) + flag.slice(-1);

describe.each(VERBS.map((v) => [v.argv.join(' '), v] as const))('%s', (_, verb) => {
  it('--help lists exactly the flags its parser accepts', () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true); // deprecated-spelling warnings
    const listed = listedFlags(verb.help);
    expect(listed).toEqual([...verb.accepted].sort());
    for (const flag of listed) {
      const args = verb.withValue.has(flag) ? [`--${flag}`, 'x'] : [`--${flag}`];
      expect(() => verb.parse(args), `--${flag}`).not.toThrow();
    }
    expect(() => verb.parse(['--not-an-option-of-any-verb'])).toThrow(/--not-an-option-of-any-verb/);
    vi.restoreAllMocks();
  });

  it('prints that generated help for --help, and exits 0', async () => {
    const { code, stdout } = await runCli([...verb.argv, '--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(verb.help);
  });

  it('exits 2 on an unknown flag, naming the flag meant', async () => {
    const meant = verb.accepted
      .filter((f) => f !== 'help' && verb.accepted.every((o) => o === f || !o.startsWith(typo(f))))
      .sort((a, b) => b.length - a.length)[0]!;
    const { code, stderr } = await runCli([...verb.argv, `--${typo(meant)}`, 'x']);
    expect(code).toBe(2);
    expect(stderr).toContain(
      `cdc-cache ${verb.argv[0]}: unknown option --${typo(meant)} (did you mean --${meant}?)`,
    );
  });
});

describe('options users reach for by another name', () => {
  it('--rules points at --config (the rules file), where the verb has --config', () => {
    expect(() => parseCommand(['--rules', 'r.json', 'log.jsonl'], REPLAY_COMMAND)).toThrow(
      'unknown option --rules (did you mean --config?)',
    );
    expect(() => parseCommand(['--rules=r.json', 'log.jsonl'], REPLAY_COMMAND)).toThrow(
      'unknown option --rules (did you mean --config?)',
    );
    expect(() => parseCommand(['--rules', 'x'], DECODE_COMMAND)).toThrow(/^unknown option --rules$/);
  });
});

describe('negatable and non-negatable booleans', () => {
  it('consume takes --no-http and --no-progress as false', () => {
    const { values } = parseCommand(['kafka', '--no-http', '--no-progress'], CONSUME_COMMAND);
    expect(values.http).toBe(false);
    expect(values.progress).toBe(false);
  });

  it('a boolean that is not negatable refuses --no-NAME with a did-you-mean', () => {
    expect(() => parseCommand(['--no-json'], VERIFY_COMMAND)).toThrow(
      'unknown option --no-json (did you mean --json?)',
    );
    expect(() => parseCommand(['--no-pg', 'x'], CONSUME_COMMAND)).toThrow(/unknown option --no-pg/);
  });

  it('verify fills its defaults from the table', () => {
    const { values } = parseCommand(['log.jsonl'], VERIFY_COMMAND);
    expect(values).toMatchObject({ duration: '60s', windows: '1s,5s,30s', strict: false, source: 'auto' });
  });
});
