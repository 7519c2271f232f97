/**
 * The `cdc-cache` dispatcher: one verb per job, each in bin/commands (or its owning folder), imported
 * lazily so `decode` never loads a network client. bin/cdc-cache.ts runs it as the process; tests
 * call {@link runCdcCache} in-process (test/support/cli.ts), which spares them a Node start and the
 * type stripping of every module per case.
 */
import { readFileSync } from 'node:fs';
import { closestOption } from '../core/config/did-you-mean.ts';
import {
  FEATURE_PACKAGES,
  MissingDependencyError,
  missingOptionalPackage,
  unresolvable,
} from '../core/optional-dependency.ts';
import { reportError, UsageError, writeOut } from './cli-error.ts';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The package's version (bin/cdc-cache.ts or dist/bin/cdc-cache.js → package.json). */
function packageVersion(): string {
  const url = new URL(FROM_SOURCE ? '../package.json' : '../../package.json', import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
}

const USAGE = `cdc-cache — keep caches true to their database by following its change stream

Usage: cdc-cache <command> [options]

Commands:
  decode [FILE|-]           decode change records into ChangeEvents (one JSON per line)
  replay CHANGELOG...       apply change logs through the rules into a cache target
  engine                    serve the cache engine over the Valkey protocol
  consume kafka|dynamodb    follow Debezium topics or a DynamoDB stream (long-running)
  lambda serve              serve the Lambda Invoke API for the handlers (also: lambda kafka-source)
  record kafka|dynamodb     capture change records from Kafka or a DynamoDB stream as a JSONL change log
  verify CHANGELOG...       check that the cache follows the database (also: verify --kafka)
  dead-letters ACTION DEST  list|show dead letters, or redrive them through the fixed rules
  help [command]            show help
  --version, -v             print the version

Run "cdc-cache <command> --help" for a command's options.
`;

type Verb = (argv: string[]) => Promise<number>;

const VERBS: Record<string, () => Promise<Verb>> = {
  decode: async () => (await import('./commands/decode.ts')).runDecode,
  replay: async () => (await import('./commands/replay.ts')).runReplay,
  engine: async () => (await import('../engine/cli.ts')).runEngineCli,
  consume: async () => (await import('./commands/consume.ts')).runConsume,
  lambda: async () => (await import('./commands/lambda.ts')).runLambda,
  record: async () => (await import('./commands/record.ts')).runRecord,
  verify: async () => (await import('./commands/verify.ts')).runVerify,
  'dead-letters': async () => (await import('./commands/dead-letters.ts')).runDeadLetters,
};

/**
 * An unknown flag of `engine`, whose parser lives in engine/ (which cannot import bin/option-table.ts
 * or core): the did-you-mean comes from the engine's own option table. The other verbs throw
 * UsageErrors with theirs (bin/option-table.ts).
 */
async function engineFlagError(error: Error): Promise<UsageError> {
  const flag = /Unknown option '(-{1,2}[^']+)'/.exec(error.message)?.[1];
  if (flag === undefined) return new UsageError(error.message);
  const { ENGINE_OPTIONS } = await import('../engine/cli.ts');
  const near = closestOption(flag.replace(/^-+/, ''), [...Object.keys(ENGINE_OPTIONS), 'help']);
  return new UsageError(`unknown option ${flag}${near ? ` (did you mean --${near}?)` : ''}`);
}

/** Runs `cdc-cache ARGV…` and returns the exit code (output on process.stdout/stderr). */
export async function runCdcCache(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === 'help' || verb === '--help' || verb === '-h') {
    // `help VERB` is `VERB --help`, through the same error handling (a missing optional package).
    if (verb === 'help' && rest[0] !== undefined && rest[0] in VERBS) return runCdcCache([rest[0], '--help']);
    await writeOut(USAGE);
    return verb === undefined ? 2 : 0;
  }
  if (verb === '--version' || verb === '-v') {
    await writeOut(`${packageVersion()}\n`);
    return 0;
  }
  const load = VERBS[verb];
  if (load === undefined) return reportError(verb, new UsageError(`unknown command "${verb}"`));
  try {
    return await (await load())(rest);
  } catch (error) {
    // A feature whose optional package is not installed: one line naming it (core/optional-dependency.ts).
    const missing = missingOptionalPackage(error);
    if (missing !== undefined) {
      const sub =
        rest[0] !== undefined && /^[a-z][a-z-]*$/.test(rest[0]) && verb !== 'decode' ? ` ${rest[0]}` : '';
      const all = unresolvable(FEATURE_PACKAGES[`${verb}${sub}`] ?? []);
      const names = all.includes(missing) ? all : [missing, ...all];
      process.stderr.write(
        `${new MissingDependencyError(`cdc-cache ${verb}${sub}`, names.join(' ')).message}\n`,
      );
      return 1;
    }
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      return reportError(verb, await engineFlagError(error as Error));
    return reportError(verb, error);
  }
}
