/**
 * `cdc-cache consume kafka|dynamodb [options]`: the long-running consumers (see consumers/README.md).
 * Config comes from `--consumer-config FILE` (JSON), then the environment, then these flags.
 */
import { parseArgs } from 'node:util';
import { readConsumerConfigFile, resolveConsumerConfig } from '../../consumers/runtime/consumer-config.ts';
import { runService } from '../../consumers/runtime/service.ts';
import { clientErrorLogger } from '../../core/logging/client-errors.ts';
import { loadOptional } from '../../core/optional-dependency.ts';
import type { CompiledConfig } from '../../core/rules/compile.ts';
import { checkReplicaIdentity } from '../../core/rules/replica-identity.ts';
import { loadRules, openTargetWithSettings } from '../../core/settings/shared-settings.ts';
import { UsageError, writeOut } from '../cli-error.ts';

/** Help text for `consume`. */
export const CONSUME_USAGE = `cdc-cache consume kafka|dynamodb --config RULES [options]
  Follows a change stream and keeps the cache target in step with it, until SIGTERM/SIGINT.
Common:
  --config FILE             rules config (cdc-cache.config.json or .ts)        [CDC_CACHE_CONFIG]
                            or the rules as inline JSON in CDC_CACHE_RULES (wins over CDC_CACHE_CONFIG)
  --consumer-config FILE    service config JSON (kafka, dynamodb, http, log)   [CDC_CACHE_CONSUMER_CONFIG]
  --target SPEC             required: valkey://… | engine://host:port | engine (in-process) [CDC_CACHE_TARGET]
  target AUTH/TLS (as for the Lambda handlers): CDC_CACHE_TARGET_USERNAME, CDC_CACHE_TARGET_PASSWORD,
  CDC_CACHE_TLS_CA_FILE, CDC_CACHE_TLS_SERVERNAME, CDC_CACHE_TLS_REJECT_UNAUTHORIZED=false
  --http-port N             health + metrics port, 0 = any (default 9464)      [CDC_CACHE_HTTP_PORT]
  --no-http                 no health/metrics endpoint
  --log-level LEVEL         debug|info|warn|error (default info)               [CDC_CACHE_LOG_LEVEL]
  --no-progress             no progress line on a terminal
kafka:
  --brokers H:P,…           bootstrap brokers                                  [CDC_CACHE_KAFKA_BROKERS]
  --group ID                consumer group (default cdc-cache)                 [CDC_CACHE_KAFKA_GROUP_ID]
  --topic NAME              topic (repeatable, or comma-separated)             [CDC_CACHE_KAFKA_TOPICS]
  --topic-pattern REGEX     topics matching a regular expression               [CDC_CACHE_KAFKA_TOPIC_PATTERN]
  --dead-letter-topic NAME  default cdc-cache.dead-letters; "" = log only      [CDC_CACHE_KAFKA_DLQ_TOPIC]
  --from-latest             a new group starts at the end (default: the beginning)
  --concurrency N           partitions processed at once (default 4)
  --chunk-size N            records per pipeline batch (default 2000)
  --kafka-client NAME       kafkajs (default) | platformatic (@platformatic/kafka: fetches ahead
                            while processing, lower latency)                   [CDC_CACHE_KAFKA_CLIENT]
  kafka.maxBytesPerPartition / kafka.maxBytes / kafka.maxWaitTimeMs in the consumer config: fetch sizes
  TLS/SASL: kafka.ssl / kafka.sasl in the consumer config, or CDC_CACHE_KAFKA_SSL=true,
  CDC_CACHE_KAFKA_SSL_CA_FILE, CDC_CACHE_KAFKA_SASL_MECHANISM (plain|scram-sha-256|scram-sha-512|
  oauthbearer|aws-msk-iam), CDC_CACHE_KAFKA_SASL_USERNAME/PASSWORD/TOKEN, AWS_REGION.
dynamodb:
  --stream-arn ARN | --table NAME                                              [CDC_CACHE_DYNAMODB_STREAM_ARN|_TABLE]
  --endpoint URL            DynamoDB endpoint override (DynamoDB Local)        [CDC_CACHE_DYNAMODB_ENDPOINT]
  --start TRIM_HORIZON|LATEST  where a shard without checkpoint starts        [CDC_CACHE_DYNAMODB_START]
  --lease-store dynamodb|target|file  shard leases + checkpoints in a DynamoDB table (default), the
                            cache target or files; default file when --target is the in-process
                            engine                                             [CDC_CACHE_DYNAMODB_LEASE_STORE]
  --lease-table NAME        lease table (default cdc-cache-leases, created on-demand if missing)
                                                                               [CDC_CACHE_DYNAMODB_LEASE_TABLE]
  --state-dir DIR           file lease store directory (default ./.cdc-cache/dynamodb) [CDC_CACHE_DYNAMODB_STATE_DIR]
  --worker-id ID            lease owner name (default host-pid)               [CDC_CACHE_DYNAMODB_WORKER_ID]
  --lease-ttl-ms N          lease time to live (default 10000)
  --dead-letter-file FILE   dead letters as JSON lines (default: the log)
Checks:
  --pg URL                  PostgreSQL to read each rule table's REPLICA IDENTITY from at start (checks
                            only): refuses to start when a rule reads non-key columns of old images that
                            the table does not capture and its onPartialImage is "dead-letter"; warns when
                            a fallback is declared. The fix is named: ALTER TABLE … REPLICA IDENTITY FULL`;

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
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    allowNegative: true,
    options: {
      config: { type: 'string', short: 'c' },
      'consumer-config': { type: 'string' },
      target: { type: 'string' },
      'http-port': { type: 'string' },
      http: { type: 'boolean' },
      'log-level': { type: 'string' },
      progress: { type: 'boolean' },
      brokers: { type: 'string' },
      group: { type: 'string' },
      topic: { type: 'string', multiple: true },
      'topic-pattern': { type: 'string' },
      'dead-letter-topic': { type: 'string' },
      'from-latest': { type: 'boolean' },
      concurrency: { type: 'string' },
      'chunk-size': { type: 'string' },
      'kafka-client': { type: 'string' },
      'stream-arn': { type: 'string' },
      table: { type: 'string' },
      endpoint: { type: 'string' },
      start: { type: 'string' },
      'state-dir': { type: 'string' },
      'lease-store': { type: 'string' },
      'lease-table': { type: 'string' },
      'worker-id': { type: 'string' },
      'lease-ttl-ms': { type: 'string' },
      'dead-letter-file': { type: 'string' },
      pg: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    await writeOut(`${CONSUME_USAGE}\n`);
    return 0;
  }
  const source = positionals[0];
  if (source !== 'kafka' && source !== 'dynamodb')
    throw new UsageError('consume needs a source: "consume kafka" or "consume dynamodb"');
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
