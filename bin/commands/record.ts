/**
 * `cdc-cache record kafka|dynamodb …`: captures real change records into a JSONL change log, the
 * format `decode` and `replay` read. Used to refresh fixtures from the local harness and to capture
 * production traffic for local replay.
 *
 *   cdc-cache record kafka --brokers 127.0.0.1:19092 --topic dbz_plain.public.users [--from beginning|now]
 *       [--max N] [--follow-ms MS] [--timeout-ms MS] [--out FILE]
 *   cdc-cache record dynamodb (--stream-arn ARN | --table NAME) [--endpoint URL] [--region R]
 *       [--max N] [--idle-ms MS] [--timeout-ms MS] [--out FILE]
 *
 * Kafka: by default reads each topic from the beginning up to the high watermarks taken at start
 * (what the topic holds now) and stops; `--from now` records only new records; `--follow-ms MS`
 * keeps reading for MS in all, and `--max N` stops after N records. DynamoDB: every shard from TRIM_HORIZON
 * until no new record arrives for `--idle-ms`. Each DynamoDB line carries the stream ARN as
 * `eventSourceARN` (as a Lambda event record does), so it names its table and replays as is.
 */
import { writeFile } from 'node:fs/promises';
import { loadOptional } from '../../core/optional-dependency.ts';
import { UsageError, writeOut } from '../cli-error.ts';
import { type CommandSpec, helpText, type OptionTable, parseCommand } from '../option-table.ts';

/** The command line of `record`: the parser and `record --help` both read it. */
export const RECORD_COMMAND = {
  usage: `cdc-cache record kafka --brokers HOST:PORT[,…] --topic T [--topic T…] [options]
cdc-cache record dynamodb (--stream-arn ARN | --table NAME) [options]
  Captures change records as a JSONL change log (stdout, or --out FILE).`,
  options: {
    brokers: { type: 'string', arg: 'HOST:PORT[,…]', help: 'kafka: bootstrap brokers' },
    topic: {
      type: 'string',
      multiple: true,
      arg: 'TOPIC',
      help: 'kafka: a topic to record (or a comma list)',
    },
    from: { type: 'string', arg: 'beginning|now', help: 'kafka: where to start (default beginning)' },
    'follow-ms': { type: 'string', arg: 'MS', help: 'kafka: keep reading this long in all' },
    'stream-arn': { type: 'string', arg: 'ARN', help: 'dynamodb: the stream to record' },
    table: { type: 'string', arg: 'NAME', help: 'dynamodb: the table whose latest stream to record' },
    endpoint: { type: 'string', arg: 'URL', help: 'dynamodb: endpoint (DynamoDB Local)' },
    region: { type: 'string', arg: 'REGION', help: 'dynamodb: AWS region' },
    max: { type: 'string', arg: 'N', help: 'stop after N records' },
    'idle-ms': {
      type: 'string',
      arg: 'MS',
      help: 'dynamodb: stop after this long without a record (default 2000)',
    },
    'timeout-ms': { type: 'string', arg: 'MS', help: 'give up after this long (default 60000)' },
    out: { type: 'string', short: 'o', arg: 'FILE', help: 'write the change log here instead of stdout' },
  },
  deprecated: { topics: 'topic' },
} as const satisfies CommandSpec<OptionTable>;

/** Help text for `record` (generated from {@link RECORD_COMMAND}). */
export const RECORD_USAGE = helpText(RECORD_COMMAND);

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`${flag} must be a non-negative integer, got "${value}"`);
  return n;
}

async function emit(lines: readonly unknown[], out: string | undefined): Promise<void> {
  const { toJsonl } = await import('../../consumers/record/capture.ts');
  const text = toJsonl(lines);
  if (out === undefined) await writeOut(text);
  else await writeFile(out, text);
  process.stderr.write(`recorded ${lines.length} records${out ? ` to ${out}` : ''}\n`);
}

async function recordKafka(values: Record<string, string | string[] | boolean | undefined>): Promise<number> {
  const brokers = (values.brokers as string | undefined)?.split(',').filter(Boolean);
  const topics = (values.topic as string[] | undefined)?.flatMap((t) => t.split(',')).filter(Boolean);
  if (!brokers?.length) throw new UsageError('record kafka needs --brokers HOST:PORT[,…]');
  if (!topics?.length) throw new UsageError('record kafka needs --topic TOPIC (repeatable)');
  const from = (values.from as string | undefined) ?? 'beginning';
  if (from !== 'beginning' && from !== 'now') throw new UsageError('--from must be "beginning" or "now"');
  const max = positiveInt(values.max as string | undefined, '--max', 0);
  const followMs = positiveInt(values['follow-ms'] as string | undefined, '--follow-ms', 0);
  const timeoutMs = positiveInt(values['timeout-ms'] as string | undefined, '--timeout-ms', 60_000);
  const { createKafkaClient, toolKafkaClientName } = await import('../../consumers/kafka/kafka-client.ts');
  const { highWatermarks, readKafkaTopics } = await import('../../consumers/record/capture.ts');
  const client = await createKafkaClient({ brokers, clientId: 'cdc-cache-record' }, toolKafkaClientName());
  const admin = client.admin();
  const high = await highWatermarks(admin, topics).finally(() => admin.close());
  const caughtUp = (lines: readonly { topic: string; partition: number; offset: string }[]) => {
    if (max > 0 && lines.length >= max) return true;
    if (from === 'now' || followMs > 0) return false;
    const seen = new Map<string, bigint>();
    for (const l of lines) seen.set(`${l.topic}/${l.partition}`, BigInt(l.offset) + 1n);
    for (const [topic, parts] of Object.entries(high)) {
      for (const [p, hw] of Object.entries(parts))
        if ((seen.get(`${topic}/${p}`) ?? 0n) < BigInt(hw)) return false;
    }
    return true;
  };
  const lines = await readKafkaTopics(client, {
    topics,
    ...(from === 'now' ? { from: high } : {}),
    until: caughtUp,
    timeoutMs: followMs > 0 ? followMs : timeoutMs,
  });
  await emit(max > 0 ? lines.slice(0, max) : lines, values.out as string | undefined);
  return 0;
}

async function recordDynamoDb(
  values: Record<string, string | string[] | boolean | undefined>,
): Promise<number> {
  const endpoint = values.endpoint as string | undefined;
  const region = (values.region as string | undefined) ?? process.env.AWS_REGION ?? 'us-east-1';
  const max = positiveInt(values.max as string | undefined, '--max', 0);
  const idleMs = positiveInt(values['idle-ms'] as string | undefined, '--idle-ms', 2000);
  const timeoutMs = positiveInt(values['timeout-ms'] as string | undefined, '--timeout-ms', 60_000);
  const { createAwsStreamsClient } = await loadOptional(
    'record dynamodb',
    () => import('../../consumers/dynamodb/aws-streams-client.ts'),
  );
  // DynamoDB Local accepts any signature: with --endpoint and no AWS credentials in the environment,
  // the adapter signs with fixed local ones (as the consumers and `lambda` do).
  const client = createAwsStreamsClient({ region, ...(endpoint ? { endpoint } : {}), maxAttempts: 3 });
  let streamArn = values['stream-arn'] as string | undefined;
  const table = values.table as string | undefined;
  if (streamArn === undefined) {
    if (table === undefined) throw new UsageError('record dynamodb needs --stream-arn ARN or --table NAME');
    streamArn = await client.latestStreamArn(table);
    if (streamArn === undefined)
      throw new UsageError(`table "${table}" has no stream: enable a StreamSpecification first`);
  }
  const { readDynamoDbStream } = await import('../../consumers/record/capture.ts');
  let lastCount = -1;
  let lastChange = Date.now();
  const records = await readDynamoDbStream(client, {
    streamArn,
    timeoutMs,
    until: (rs) => {
      if (max > 0 && rs.length >= max) return true;
      if (rs.length !== lastCount) {
        lastCount = rs.length;
        lastChange = Date.now();
        return false;
      }
      return Date.now() - lastChange >= idleMs;
    },
  });
  client.close();
  await emit(max > 0 ? records.slice(0, max) : records, values.out as string | undefined);
  return 0;
}

/** Runs `record`; returns the exit code. */
export async function runRecord(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommand(argv, RECORD_COMMAND);
  if (help) {
    await writeOut(RECORD_USAGE);
    return 0;
  }
  const [source, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  if (source === 'kafka') return recordKafka(values);
  if (source === 'dynamodb') return recordDynamoDb(values);
  throw new UsageError('record needs a source: "kafka" or "dynamodb"');
}
