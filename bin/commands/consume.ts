/**
 * `cdc-cache consume kafka|dynamodb [options]`: the long-running consumers (see consumers/README.md).
 * Config comes from `--consumer-config FILE` (JSON), then the environment, then these flags
 * ({@link CONSUME_COMMAND}, read by both the parser and `consume --help`).
 */
import { readConsumerConfigFile, resolveConsumerConfig } from '../../consumers/runtime/consumer-config.ts';
import { clientErrorLogger } from '../../core/logging/client-errors.ts';
import { loadOptional } from '../../core/optional-dependency.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import { checkReplicaIdentity } from '../../core/rules/replica-identity.ts';
import { loadRules, openTargetWithSettings } from '../../core/settings/shared-settings.ts';
import { UsageError, writeOut } from '../cli-error.ts';
import { type CommandSpec, helpText, type OptionTable, parseCommand } from '../option-table.ts';

/** The command line of `consume`: the parser and `consume --help` both read it. */
export const CONSUME_COMMAND = {
  usage: `cdc-cache consume kafka|dynamodb --config RULES [options]
  Follows a change stream and keeps the cache target in step with it, until SIGTERM/SIGINT.
  Config comes from --consumer-config FILE (JSON), then the environment, then these flags.`,
  options: {
    config: {
      type: 'string',
      short: 'c',
      arg: 'FILE',
      env: 'CDC_CACHE_CONFIG',
      help: 'rules config (cdc-cache.config.json or .ts), or the rules as inline JSON in\nCDC_CACHE_RULES (wins over CDC_CACHE_CONFIG)',
    },
    'consumer-config': {
      type: 'string',
      arg: 'FILE',
      env: 'CDC_CACHE_CONSUMER_CONFIG',
      help: 'service config JSON (kafka, dynamodb, http, log)',
    },
    target: {
      type: 'string',
      arg: 'SPEC',
      env: 'CDC_CACHE_TARGET',
      help: 'required: valkey://… | engine://host:port | engine (in-process)',
    },
    'http-port': {
      type: 'string',
      arg: 'N',
      env: 'CDC_CACHE_HTTP_PORT',
      help: 'health + metrics port, 0 = any (default 9464)',
    },
    http: { type: 'boolean', negatable: true, help: 'serve health/metrics (--no-http: none)' },
    'log-level': {
      type: 'string',
      arg: 'LEVEL',
      env: 'CDC_CACHE_LOG_LEVEL',
      help: 'debug|info|warn|error (default info)',
    },
    progress: {
      type: 'boolean',
      negatable: true,
      help: 'progress line on a terminal (--no-progress: none)',
    },
    brokers: {
      type: 'string',
      arg: 'HOST:PORT[,…]',
      env: 'CDC_CACHE_KAFKA_BROKERS',
      help: 'kafka: bootstrap brokers',
    },
    group: {
      type: 'string',
      arg: 'ID',
      env: 'CDC_CACHE_KAFKA_GROUP_ID',
      help: 'kafka: consumer group (default cdc-cache)',
    },
    topic: {
      type: 'string',
      multiple: true,
      arg: 'NAME',
      env: 'CDC_CACHE_KAFKA_TOPICS',
      help: 'kafka: a topic (or a comma list)',
    },
    'topic-pattern': {
      type: 'string',
      arg: 'REGEX',
      env: 'CDC_CACHE_KAFKA_TOPIC_PATTERN',
      help: 'kafka: topics matching a regular expression',
    },
    'dead-letter-topic': {
      type: 'string',
      arg: 'NAME',
      env: 'CDC_CACHE_KAFKA_DLQ_TOPIC',
      help: 'kafka: default cdc-cache.dead-letters; "" = log only',
    },
    'from-latest': {
      type: 'boolean',
      help: 'kafka: a new group starts at the end (default: the beginning)',
    },
    concurrency: { type: 'string', arg: 'N', help: 'kafka: partitions processed at once (default 4)' },
    'chunk-size': { type: 'string', arg: 'N', help: 'kafka: records per pipeline batch (default 2000)' },
    'kafka-client': {
      type: 'string',
      arg: 'NAME',
      env: 'CDC_CACHE_KAFKA_CLIENT',
      help: 'kafka: platformatic (default; @platformatic/kafka: fetches ahead while\nprocessing, lower latency) | kafkajs',
    },
    'stream-arn': {
      type: 'string',
      arg: 'ARN',
      env: 'CDC_CACHE_DYNAMODB_STREAM_ARN',
      help: 'dynamodb: the stream to follow',
    },
    table: {
      type: 'string',
      arg: 'NAME',
      env: 'CDC_CACHE_DYNAMODB_TABLE',
      help: 'dynamodb: the table whose stream to follow (instead of --stream-arn)',
    },
    endpoint: {
      type: 'string',
      arg: 'URL',
      env: 'CDC_CACHE_DYNAMODB_ENDPOINT',
      help: 'dynamodb: endpoint override (DynamoDB Local)',
    },
    start: {
      type: 'string',
      arg: 'TRIM_HORIZON|LATEST',
      env: 'CDC_CACHE_DYNAMODB_START',
      help: 'dynamodb: where a shard without checkpoint starts',
    },
    'lease-store': {
      type: 'string',
      arg: 'dynamodb|target|file',
      env: 'CDC_CACHE_DYNAMODB_LEASE_STORE',
      help: 'dynamodb: shard leases + checkpoints in a DynamoDB table (default), the cache\ntarget or files; default file when --target is the in-process engine',
    },
    'lease-table': {
      type: 'string',
      arg: 'NAME',
      env: 'CDC_CACHE_DYNAMODB_LEASE_TABLE',
      help: 'dynamodb: lease table (default cdc-cache-leases, created on-demand if missing)',
    },
    'state-dir': {
      type: 'string',
      arg: 'DIR',
      env: 'CDC_CACHE_DYNAMODB_STATE_DIR',
      help: 'dynamodb: file lease store directory (default ./.cdc-cache/dynamodb)',
    },
    'worker-id': {
      type: 'string',
      arg: 'ID',
      env: 'CDC_CACHE_DYNAMODB_WORKER_ID',
      help: 'dynamodb: lease owner name (default host-pid)',
    },
    'lease-ttl-ms': { type: 'string', arg: 'N', help: 'dynamodb: lease time to live (default 10000)' },
    'dead-letter-file': {
      type: 'string',
      arg: 'FILE',
      help: 'dynamodb: dead letters as JSON lines (default: the log)',
    },
    pg: {
      type: 'string',
      arg: 'URL',
      help: 'check at start (only): PostgreSQL to read each rule table\'s REPLICA IDENTITY from;\nrefuses to start when a rule reads non-key columns of old images that the table does\nnot capture and its onPartialImage is "dead-letter"; warns when a fallback is declared.\nThe fix is named: ALTER TABLE … REPLICA IDENTITY FULL',
    },
  },
  notes: `Settings without a flag:
  target AUTH/TLS (as for the Lambda handlers): CDC_CACHE_TARGET_USERNAME, CDC_CACHE_TARGET_PASSWORD,
  CDC_CACHE_TLS_CA_FILE, CDC_CACHE_TLS_SERVERNAME, CDC_CACHE_TLS_REJECT_UNAUTHORIZED=false
  kafka fetch sizes: kafka.maxBytesPerPartition / kafka.maxBytes / kafka.maxWaitTimeMs in the consumer config
  kafka TLS/SASL: kafka.ssl / kafka.sasl in the consumer config, or CDC_CACHE_KAFKA_SSL=true,
  CDC_CACHE_KAFKA_SSL_CA_FILE, CDC_CACHE_KAFKA_SASL_MECHANISM (plain|scram-sha-256|scram-sha-512|
  oauthbearer|aws-msk-iam), CDC_CACHE_KAFKA_SASL_USERNAME/PASSWORD/TOKEN, AWS_REGION.`,
} as const satisfies CommandSpec<OptionTable>;

/** Help text for `consume` (generated from {@link CONSUME_COMMAND}). */
export const CONSUME_USAGE = helpText(CONSUME_COMMAND);

/**
 * `--pg URL` (checks only): reads each rule table's REPLICA IDENTITY before consuming. A rule whose
 * old-image templates the table cannot serve and whose policy is "dead-letter" refuses the start
 * (every update and delete would be a dead letter); one with a declared fallback is a warning.
 */
async function replicaIdentityAllows(url: string, rules: CompiledConfig): Promise<boolean> {
  const pg = await loadOptional('consume --pg', () => import('pg'));
  const client = new pg.default.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new UsageError(
      `--pg ${url.replace(/\/\/[^@/]*@/, '//***@')}: cannot connect: ${(error as Error).message}`,
    );
  }
  try {
    const findings = await checkReplicaIdentity(
      rules,
      async (text, params) => (await client.query(text, [...params])).rows,
    );
    for (const f of findings) process.stderr.write(`${f.refuse ? 'error' : 'warning'}: ${f.message}\n`);
    return !findings.some((f) => f.refuse);
  } finally {
    await client.end();
  }
}

/** Runs `consume`; returns the exit code. */
export async function runConsume(argv: string[]): Promise<number> {
  const { values, positionals, help } = parseCommand(argv, CONSUME_COMMAND);
  if (help) {
    await writeOut(CONSUME_USAGE);
    return 0;
  }
  const source = positionals[0];
  if (source !== 'kafka' && source !== 'dynamodb')
    throw new UsageError('consume needs a source: "consume kafka" or "consume dynamodb"');
  // Loaded here, not at the top: the service runtime needs pino and prom-client (optional peers),
  // and `consume --help` must print the options before they are installed. A missing one still
  // stops the run before any config is read, with the one line naming every package to install.
  const { runService } = await import('../../consumers/runtime/service.ts');
  const flags: Record<string, unknown> = {
    rules: values.config,
    target: values.target,
    httpPort: values['http-port'],
    http: values.http,
    logLevel: values['log-level'],
    progress: values.progress,
    brokers: values.brokers?.split(','),
    groupId: values.group,
    topics: values.topic?.flatMap((t) => t.split(',')).filter((t) => t !== ''),
    topicPattern: values['topic-pattern'],
    deadLetterTopic: values['dead-letter-topic'],
    fromBeginning: values['from-latest'] === true ? false : undefined,
    concurrency: values.concurrency,
    chunkSize: values['chunk-size'],
    kafkaClient: values['kafka-client'],
    streamArn: values['stream-arn'],
    table: values.table,
    endpoint: values.endpoint,
    start: values.start,
    stateDir: values['state-dir'],
    leaseStore: values['lease-store'],
    leaseTable: values['lease-table'],
    workerId: values['worker-id'],
    leaseTtlMs: values['lease-ttl-ms'],
    deadLetterFile: values['dead-letter-file'],
  };
  // Every input is validated here, before the rules are read or any connection is made.
  const file = readConsumerConfigFile(values['consumer-config'] ?? process.env.CDC_CACHE_CONSUMER_CONFIG);
  const config = resolveConsumerConfig(file.data, process.env, flags, file);
  const targetFrom =
    values.target !== undefined ? '--target' : process.env.CDC_CACHE_TARGET ? 'CDC_CACHE_TARGET' : 'target';
  if (config.rules === undefined)
    throw new UsageError(
      'consume needs the rules: --config FILE, CDC_CACHE_CONFIG=FILE, CDC_CACHE_RULES=\'{"rules":[…]}\' (inline JSON), or "rules" in the consumer config',
    );
  let rules: Awaited<ReturnType<typeof loadRules>>;
  try {
    rules = await loadRules(config.rules);
  } catch (error) {
    // The service logs config warnings once it runs; a deprecated spelling may be why it cannot.
    for (const w of config.warnings) process.stderr.write(`warning: ${w}\n`);
    throw error;
  }
  for (const w of rules.warnings) process.stderr.write(`warning: ${w}\n`);
  if (values.pg !== undefined && !(await replicaIdentityAllows(values.pg, rules))) return 1;
  if (source === 'kafka') {
    if (config.kafka.brokers.length === 0)
      throw new UsageError('consume kafka needs --brokers (or CDC_CACHE_KAFKA_BROKERS)');
    const { buildKafkaWorker } = await import('../../consumers/kafka/run-kafka.ts');
    return runService(
      'cdc-cache-kafka',
      config,
      (logger) =>
        openTargetWithSettings(config.target, config.targetSettings, targetFrom, {
          onClientError: clientErrorLogger(logger),
        }),
      (ctx) => buildKafkaWorker(config.kafka, rules, ctx),
    );
  }
  const { buildDynamoDbWorker } = await import('../../consumers/dynamodb/run-dynamodb.ts');
  return runService(
    'cdc-cache-dynamodb',
    config,
    (logger) =>
      openTargetWithSettings(config.target, config.targetSettings, targetFrom, {
        onClientError: clientErrorLogger(logger),
      }),
    (ctx) => buildDynamoDbWorker(config.dynamodb, rules, ctx),
  );
}
