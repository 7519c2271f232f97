/**
 * `cdc-cache lambda …`: the Lambda side of the CLI.
 *
 *   lambda serve [--port 9001] [--bind 127.0.0.1] [--config FILE] [--target SPEC] [--dead-letter SPEC] [--timeout SECONDS]
 *   lambda kafka-source --brokers HOST:PORT[,…] --topic NAME|/REGEX/ … [--function kafka] [--endpoint URL]
 *                       [--group ID] [--batch-size N]
 *
 * and the `replay --target lambda:NAME` glue. The code itself lives in functions/local.
 */
import type { DecodeOptions } from '../../core/decode/document.ts';
import { UsageError, writeOut } from '../cli-error.ts';
import { type CommandSpec, helpText, type OptionTable, parseCommand } from '../option-table.ts';
import { sourceHintOption } from './decode.ts';

/** The command line of `lambda serve`: the parser and its help both read it. */
export const LAMBDA_SERVE_COMMAND = {
  usage: `cdc-cache lambda serve [options]
  Serves the Lambda Invoke API (POST /2015-03-31/functions/NAME/invocations) for the handlers
  "dynamodb" and "kafka" (also "cdc-cache-dynamodb", "cdc-cache-kafka"). Flags override the
  CDC_CACHE_* environment variables the handlers read (see functions/README.md).`,
  options: {
    port: { type: 'string', default: '9001', arg: 'PORT', help: 'port to listen on' },
    bind: { type: 'string', default: '127.0.0.1', arg: 'ADDRESS', help: 'address to listen on' },
    config: { type: 'string', short: 'c', arg: 'FILE', help: 'the rules (sets CDC_CACHE_CONFIG)' },
    target: { type: 'string', arg: 'SPEC', help: 'the cache target (sets CDC_CACHE_TARGET)' },
    'dead-letter': {
      type: 'string',
      arg: 'log|fail|SQS_URL|FILE',
      help: 'where poison records go (sets CDC_CACHE_DEAD_LETTER)',
    },
    timeout: { type: 'string', default: '60', arg: 'SECONDS', help: 'the function timeout' },
  },
} as const satisfies CommandSpec<OptionTable>;

/** The command line of `lambda kafka-source`: the parser and its help both read it. */
export const LAMBDA_KAFKA_SOURCE_COMMAND = {
  usage: `cdc-cache lambda kafka-source --brokers HOST:PORT[,…] --topic NAME|/REGEX/ [--topic …] [options]
  Emulates an MSK event source mapping: polls Kafka and invokes the function with MSK-shaped
  batches, committing offsets only for acknowledged records.`,
  options: {
    brokers: { type: 'string', arg: 'HOST:PORT[,…]', help: 'bootstrap brokers' },
    topic: {
      type: 'string',
      multiple: true,
      arg: 'NAME|/REGEX/',
      help: 'a topic, or a pattern between slashes',
    },
    function: { type: 'string', default: 'kafka', arg: 'NAME', help: 'the function to invoke' },
    endpoint: { type: 'string', arg: 'URL', help: 'the Lambda endpoint (e.g. http://127.0.0.1:9001)' },
    group: { type: 'string', default: 'cdc-cache-lambda', arg: 'ID', help: 'the consumer group' },
    'batch-size': { type: 'string', arg: 'N', help: 'records per invocation (default 100)' },
  },
  deprecated: { topics: 'topic' },
} as const satisfies CommandSpec<OptionTable>;

/** Help text for `lambda` (generated from the two tables). */
export const LAMBDA_USAGE = `${helpText(LAMBDA_SERVE_COMMAND)}\n${helpText(LAMBDA_KAFKA_SOURCE_COMMAND)}`;

function noPositionals(positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
}

function positiveInt(v: string | undefined, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

async function serve(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommand(argv, LAMBDA_SERVE_COMMAND);
  noPositionals(positionals);
  const port = Number(values.port ?? '9001');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  const timeoutMs = positiveInt(values.timeout, 'timeout', 60) * 1000;
  const env: Record<string, string | undefined> = { ...process.env };
  if (values.config !== undefined) {
    env.CDC_CACHE_CONFIG = values.config;
    delete env.CDC_CACHE_RULES;
  }
  if (values.target !== undefined) env.CDC_CACHE_TARGET = values.target;
  if (values['dead-letter'] !== undefined) env.CDC_CACHE_DEAD_LETTER = values['dead-letter'];
  const { serveFunctions } = await import('../../functions/local/serve.ts');
  const served = await serveFunctions({ env, port, host: values.bind ?? '127.0.0.1', timeoutMs });
  try {
    await served.environment.get(); // config and target errors show now, not at the first invoke
  } catch (error) {
    await served.close();
    throw error;
  }
  process.stderr.write(`cdc-cache lambda serve: listening on ${served.url} (functions: dynamodb, kafka)\n`);
  const signal = await untilSignal();
  process.stderr.write(`cdc-cache lambda serve: ${signal}, stopping\n`);
  await served.close();
  return 0;
}

async function kafkaSource(argv: string[]): Promise<number> {
  const { values: parsed, positionals } = parseCommand(argv, LAMBDA_KAFKA_SOURCE_COMMAND);
  noPositionals(positionals);
  const values = {
    ...parsed,
    function: parsed.function ?? 'kafka',
    group: parsed.group ?? 'cdc-cache-lambda',
  };
  if (values.brokers === undefined) throw new UsageError('kafka-source needs --brokers HOST:PORT[,...]');
  if (values.topic === undefined || values.topic.length === 0)
    throw new UsageError('kafka-source needs at least one --topic NAME (or /REGEX/)');
  const topics = values.topic.map((t) => (/^\/.+\/$/.test(t) ? new RegExp(t.slice(1, -1)) : t));
  const { lambdaClient } = await import('../../functions/local/lambda-client.ts');
  const { startKafkaEventSource } = await import('../../functions/local/kafka-event-source.ts');
  const source = await startKafkaEventSource({
    brokers: values.brokers.split(','),
    topics,
    groupId: values.group,
    functionName: values.function,
    client: lambdaClient(values.endpoint === undefined ? {} : { endpoint: values.endpoint }),
    batchSize: positiveInt(values['batch-size'], 'batch-size', 100),
  });
  process.stderr.write(
    `cdc-cache lambda kafka-source: polling ${values.topic.join(', ')} → lambda:${values.function}\n`,
  );
  await untilSignal();
  await source.stop();
  process.stderr.write(`cdc-cache lambda kafka-source: stopped ${JSON.stringify(source.stats)}\n`);
  return 0;
}

/** Runs `lambda SUBCOMMAND`; returns the exit code. */
export async function runLambda(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    await writeOut(LAMBDA_USAGE);
    return sub === undefined ? 2 : 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const spec =
      sub === 'serve'
        ? LAMBDA_SERVE_COMMAND
        : sub === 'kafka-source'
          ? LAMBDA_KAFKA_SOURCE_COMMAND
          : undefined;
    await writeOut(spec === undefined ? LAMBDA_USAGE : helpText(spec));
    return 0;
  }
  if (sub === 'serve') return serve(rest);
  if (sub === 'kafka-source') return kafkaSource(rest);
  throw new UsageError(`unknown lambda subcommand "${sub}" (serve, kafka-source)`);
}

/** True for the AWS SDK's "no credentials found" failure. */
function isCredentialsError(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'CredentialsProviderError' || /credentials/i.test(e?.message ?? '');
}

/** `replay … --target lambda:NAME [--endpoint URL]`: sends the change logs to a function. */
export async function runReplayToLambda(
  files: string[],
  values: { target?: string; endpoint?: string; 'batch-size'?: string; source?: string; table?: string },
): Promise<number> {
  const name = values.target!.slice('lambda:'.length);
  if (name === '')
    throw new UsageError('--target lambda:NAME needs a function name (dynamodb, kafka, or a deployed one)');
  const decode: DecodeOptions = { source: sourceHintOption(values.source) };
  if (values.table !== undefined) decode.table = values.table;
  const { lambdaClient } = await import('../../functions/local/lambda-client.ts');
  const { replayToLambda } = await import('../../functions/local/replay-to-lambda.ts');
  const client = lambdaClient(values.endpoint === undefined ? {} : { endpoint: values.endpoint });
  try {
    const s = await replayToLambda(files, {
      functionName: name,
      client,
      decode,
      batchSize: positiveInt(values['batch-size'], 'batch-size', 100),
      onMessage: (line) => process.stderr.write(`${line}\n`),
    }).catch((error: unknown) => {
      // Without --endpoint the SDK calls AWS; its credentials error says nothing of the local way.
      if (values.endpoint === undefined && isCredentialsError(error))
        throw new Error(
          `lambda:${name}: no AWS credentials to invoke a deployed function (${(error as Error).message}); ` +
            `for the project's handlers run "cdc-cache lambda serve" and add --endpoint http://127.0.0.1:9001`,
          { cause: error },
        );
      throw error;
    });
    await writeOut(
      `replayed ${s.records} records (${s.lines} lines) into lambda:${name} in ${s.invocations} invocations: ` +
        `${s.acknowledged} acknowledged, ${s.failed} failed, ${s.functionErrors} function errors, ${s.unreadable} unreadable lines\n`,
    );
    return s.failed > 0 || s.unreadable > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}
