/**
 * The consumers' service configuration: a JSON file (`--consumer-config`, or `CDC_CACHE_CONSUMER_CONFIG`),
 * overridden by environment variables, overridden by command-line flags. Validated once, here, with
 * the config path and the fix in every message. The rules themselves stay in the rules config
 * (`--config`, see the main README), which this file may name with `rules`.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/errors.ts';
import {
  type RulesSource,
  readSharedSettings,
  type SharedSettings,
} from '../../core/settings/shared-settings.ts';
import type { KafkaSaslOptions, KafkaTlsOptions } from '../kafka/connection-options.ts';
import type { LogLevel } from './logger.ts';
import { parseLogLevel } from './logger.ts';

/** Kafka section. */
export interface KafkaSection {
  brokers: string[];
  clientId?: string;
  /** @default 'cdc-cache' */
  groupId: string;
  topics: string[];
  /** A regular expression (source text) matching topic names, in addition to `topics`. */
  topicPattern?: string;
  /** @default true */
  fromBeginning: boolean;
  /** @default 4 */
  partitionsConsumedConcurrently: number;
  /** @default 2000 */
  chunkSize: number;
  /** Dead-letter topic; `""` logs dead letters instead. @default 'cdc-cache.dead-letters' */
  deadLetterTopic: string;
  ssl?: KafkaTlsOptions;
  sasl?: KafkaSaslOptions;
  /** @default 30000 */
  sessionTimeoutMs?: number;
  /**
   * The Kafka client library: `kafkajs` (default) or `platformatic` (`@platformatic/kafka`, fetches
   * ahead while batches are processed; see consumers/kafka/platformatic-client.ts).
   */
  client: KafkaClientName;
  /** Bytes fetched per partition per request. @default 1048576 */
  maxBytesPerPartition?: number;
  /** Bytes fetched per request, all partitions. @default 10485760 */
  maxBytes?: number;
  /** Longest time the broker holds a fetch waiting for data. @default 5000 */
  maxWaitTimeMs?: number;
}

/** The Kafka client libraries `kafka.client` selects. */
export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
/** One of {@link KAFKA_CLIENTS}. */
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

/** DynamoDB Streams section. */
export interface DynamoDbSection {
  /** Stream ARN; or `table` to look up its latest stream. */
  streamArn?: string;
  /** Table name (used for decoding, and to find the stream when no ARN is given). */
  table?: string;
  /** Endpoint override (DynamoDB Local). */
  endpoint?: string;
  /** @default process.env.AWS_REGION ?? 'us-east-1' */
  region: string;
  /** Where a shard without a checkpoint starts. @default 'TRIM_HORIZON' */
  startPosition: 'TRIM_HORIZON' | 'LATEST';
  /**
   * Where shard leases and checkpoints live: `target` (lock keys and checkpoint keys in the cache
   * target, shared by workers on any host; see consumers/dynamodb/target-lease-store.ts) or `file`
   * (JSON files in `stateDir`, for workers on one host). @default 'target', but 'file' when the
   * target is the in-process `engine` (its keys die with the worker, so a checkpoint there would not
   * survive a restart and no other worker could see the leases).
   */
  leaseStore: 'target' | 'file';
  /** Directory of the file checkpoint/lease store. @default './.cdc-cache/dynamodb' */
  stateDir: string;
  /** Worker id for leases. @default hostname-pid */
  workerId?: string;
  /** Lease time to live, ms. @default 10000 */
  leaseTtlMs: number;
  /** Records per GetRecords call (max 1000). @default 1000 */
  limit: number;
  /** Dead letters as JSON lines; none → structured log. */
  deadLetterFile?: string;
}

/** The whole service config. */
export interface ConsumerConfig {
  /** Where the rules come from (`--config`, CDC_CACHE_RULES, CDC_CACHE_CONFIG, `rules` in the file). */
  rules?: RulesSource;
  /** Target spec (`engine`, `engine://host:port`, `valkey://…`). @default 'engine' */
  target: string;
  /** Target AUTH and TLS, read from the same variables as the Lambda handlers. */
  targetSettings: SharedSettings;
  /** Warnings to log once the logger exists (deprecated spellings). */
  warnings: string[];
  http: { port: number; host: string; enabled: boolean };
  log: { level: LogLevel };
  /** Show a progress line on a TTY. @default true */
  progress: boolean;
  kafka: KafkaSection;
  dynamodb: DynamoDbSection;
}

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

function num(v: unknown, where: string, min = 0): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min)
    throw new ConfigError(`${where}: must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

function kafkaClient(v: string): KafkaClientName {
  if (!(KAFKA_CLIENTS as readonly string[]).includes(v))
    throw new ConfigError(
      `kafka.client (--kafka-client, CDC_CACHE_KAFKA_CLIENT): "${v}" is not one of ${KAFKA_CLIENTS.join(', ')}`,
    );
  return v as KafkaClientName;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

/** Reads the JSON config file (if any). */
export function readConsumerConfigFile(path: string | undefined): Json {
  if (path === undefined) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`${path}: cannot read the consumer config (${(cause as Error).message})`, {
      cause,
    });
  }
  try {
    return obj(JSON.parse(text));
  } catch (cause) {
    throw new ConfigError(`${path}: not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

function saslFromEnv(env: NodeJS.ProcessEnv): KafkaSaslOptions | undefined {
  const mechanism = env.CDC_CACHE_KAFKA_SASL_MECHANISM;
  if (mechanism === undefined || mechanism === '') return undefined;
  if (mechanism === 'aws-msk-iam') return { mechanism, region: env.AWS_REGION ?? '' };
  if (mechanism === 'oauthbearer') return { mechanism, token: env.CDC_CACHE_KAFKA_SASL_TOKEN ?? '' };
  return {
    mechanism: mechanism as 'plain',
    username: env.CDC_CACHE_KAFKA_SASL_USERNAME ?? '',
    password: env.CDC_CACHE_KAFKA_SASL_PASSWORD ?? '',
  };
}

/**
 * Where the rules come from: `--config FILE` over CDC_CACHE_RULES (inline JSON) over CDC_CACHE_CONFIG
 * (a path) over `rules` in the consumer config file — the same variables as the Lambda handlers.
 * A CDC_CACHE_RULES value that does not start with `{` is taken as a path, for compatibility with
 * earlier releases, with a deprecation warning.
 */
export function resolveRulesSource(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  fileRules: unknown,
  warnings: string[],
): RulesSource | undefined {
  if (flag !== undefined && flag !== '') return { kind: 'path', path: flag, from: '--config' };
  const inline = env.CDC_CACHE_RULES?.trim();
  if (inline !== undefined && inline !== '') {
    if (inline.startsWith('{')) return { kind: 'inline', json: inline, from: 'CDC_CACHE_RULES' };
    warnings.push(
      `CDC_CACHE_RULES=${inline}: a path in CDC_CACHE_RULES is deprecated; set CDC_CACHE_CONFIG=${inline} instead (CDC_CACHE_RULES holds the rules as inline JSON, as for the Lambda handlers)`,
    );
    return { kind: 'path', path: inline, from: 'CDC_CACHE_RULES' };
  }
  const path = env.CDC_CACHE_CONFIG?.trim();
  if (path !== undefined && path !== '') return { kind: 'path', path, from: 'CDC_CACHE_CONFIG' };
  if (fileRules === undefined) return undefined;
  if (typeof fileRules !== 'string' || fileRules === '')
    throw new ConfigError(`rules: must be the path of the rules config, got ${JSON.stringify(fileRules)}`);
  return { kind: 'path', path: fileRules, from: 'rules (consumer config)' };
}

/**
 * Resolves the config: `flags` (already parsed, only the ones given) over `env` over `file`.
 * Environment: CDC_CACHE_RULES (inline JSON), CDC_CACHE_CONFIG (rules path), CDC_CACHE_TARGET,
 * CDC_CACHE_TARGET_USERNAME, CDC_CACHE_TARGET_PASSWORD, CDC_CACHE_TLS_{CA_FILE,SERVERNAME,
 * REJECT_UNAUTHORIZED} (as for the Lambda handlers), CDC_CACHE_HTTP_PORT, CDC_CACHE_LOG_LEVEL,
 * CDC_CACHE_KAFKA_{CLIENT,BROKERS,GROUP_ID,TOPICS,TOPIC_PATTERN,DLQ_TOPIC,SSL,SSL_CA_FILE,SASL_MECHANISM,
 * SASL_USERNAME,SASL_PASSWORD,SASL_TOKEN}, AWS_REGION, CDC_CACHE_DYNAMODB_{ENDPOINT,STREAM_ARN,TABLE,
 * STATE_DIR,WORKER_ID,START,LEASE_STORE}.
 */
export function resolveConsumerConfig(file: Json, env: NodeJS.ProcessEnv, flags: Json = {}): ConsumerConfig {
  const fk = obj(file.kafka);
  const fd = obj(file.dynamodb);
  const fh = obj(file.http);
  const fl = obj(file.log);
  const pick = <T>(...vals: (T | undefined)[]): T | undefined =>
    vals.find((v) => v !== undefined && v !== '');

  const topicPattern = pick<string>(
    flags.topicPattern as string,
    env.CDC_CACHE_KAFKA_TOPIC_PATTERN,
    fk.topicPattern as string,
  );
  if (topicPattern !== undefined) {
    try {
      new RegExp(topicPattern);
    } catch (cause) {
      throw new ConfigError(`kafka.topicPattern: not a regular expression: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  const ssl = pick<KafkaTlsOptions>(
    env.CDC_CACHE_KAFKA_SSL_CA_FILE ? { caFile: env.CDC_CACHE_KAFKA_SSL_CA_FILE } : undefined,
    env.CDC_CACHE_KAFKA_SSL === 'true' ? true : undefined,
    fk.ssl as KafkaTlsOptions,
  );
  const sasl = pick<KafkaSaslOptions>(saslFromEnv(env), fk.sasl as KafkaSaslOptions);
  const kafka: KafkaSection = {
    brokers: pick(flags.brokers as string[], list(env.CDC_CACHE_KAFKA_BROKERS), fk.brokers as string[]) ?? [],
    groupId: pick(flags.groupId as string, env.CDC_CACHE_KAFKA_GROUP_ID, fk.groupId as string) ?? 'cdc-cache',
    topics: pick(flags.topics as string[], list(env.CDC_CACHE_KAFKA_TOPICS), fk.topics as string[]) ?? [],
    fromBeginning: pick(flags.fromBeginning as boolean, fk.fromBeginning as boolean) ?? true,
    partitionsConsumedConcurrently: num(
      pick(flags.concurrency, fk.partitionsConsumedConcurrently) ?? 4,
      'kafka.partitionsConsumedConcurrently',
      1,
    ),
    chunkSize: num(pick(flags.chunkSize, fk.chunkSize) ?? 2000, 'kafka.chunkSize', 1),
    client: kafkaClient(
      pick<string>(flags.kafkaClient as string, env.CDC_CACHE_KAFKA_CLIENT, fk.client as string) ?? 'kafkajs',
    ),
    deadLetterTopic:
      (flags.deadLetterTopic as string | undefined) ??
      env.CDC_CACHE_KAFKA_DLQ_TOPIC ??
      (fk.deadLetterTopic as string | undefined) ??
      'cdc-cache.dead-letters',
  };
  if (topicPattern !== undefined) kafka.topicPattern = topicPattern;
  if (ssl !== undefined) kafka.ssl = ssl;
  if (sasl !== undefined) kafka.sasl = sasl;
  if (typeof fk.clientId === 'string') kafka.clientId = fk.clientId;
  if (fk.sessionTimeoutMs !== undefined)
    kafka.sessionTimeoutMs = num(fk.sessionTimeoutMs, 'kafka.sessionTimeoutMs', 6000);
  if (fk.maxBytesPerPartition !== undefined)
    kafka.maxBytesPerPartition = num(fk.maxBytesPerPartition, 'kafka.maxBytesPerPartition', 1);
  if (fk.maxBytes !== undefined) kafka.maxBytes = num(fk.maxBytes, 'kafka.maxBytes', 1);
  if (fk.maxWaitTimeMs !== undefined) kafka.maxWaitTimeMs = num(fk.maxWaitTimeMs, 'kafka.maxWaitTimeMs', 0);

  const start =
    pick<string>(flags.start as string, env.CDC_CACHE_DYNAMODB_START, fd.startPosition as string) ??
    'TRIM_HORIZON';
  if (start !== 'TRIM_HORIZON' && start !== 'LATEST')
    throw new ConfigError(`dynamodb.startPosition: "${start}" is not TRIM_HORIZON or LATEST`);
  const targetSpec = pick(flags.target as string, env.CDC_CACHE_TARGET, file.target as string) ?? 'engine';
  const leaseStore =
    pick<string>(flags.leaseStore as string, env.CDC_CACHE_DYNAMODB_LEASE_STORE, fd.leaseStore as string) ??
    (targetSpec === 'engine' ? 'file' : 'target');
  if (leaseStore !== 'target' && leaseStore !== 'file')
    throw new ConfigError(
      `dynamodb.leaseStore: "${leaseStore}" is not target or file (--lease-store, CDC_CACHE_DYNAMODB_LEASE_STORE)`,
    );
  const dynamodb: DynamoDbSection = {
    region: pick(env.AWS_REGION, fd.region as string) ?? 'us-east-1',
    startPosition: start,
    leaseStore,
    stateDir:
      pick(flags.stateDir as string, env.CDC_CACHE_DYNAMODB_STATE_DIR, fd.stateDir as string) ??
      './.cdc-cache/dynamodb',
    leaseTtlMs: num(pick(flags.leaseTtlMs, fd.leaseTtlMs) ?? 10_000, 'dynamodb.leaseTtlMs', 1000),
    limit: num(fd.limit ?? 1000, 'dynamodb.limit', 1),
  };
  if (dynamodb.limit > 1000) throw new ConfigError('dynamodb.limit: GetRecords returns at most 1000 records');
  const opt = (k: keyof DynamoDbSection, ...vals: (string | undefined)[]) => {
    const v = pick(...vals);
    if (v !== undefined) (dynamodb as unknown as Json)[k] = v;
  };
  opt('streamArn', flags.streamArn as string, env.CDC_CACHE_DYNAMODB_STREAM_ARN, fd.streamArn as string);
  opt('table', flags.table as string, env.CDC_CACHE_DYNAMODB_TABLE, fd.table as string);
  opt('endpoint', flags.endpoint as string, env.CDC_CACHE_DYNAMODB_ENDPOINT, fd.endpoint as string);
  opt('workerId', flags.workerId as string, env.CDC_CACHE_DYNAMODB_WORKER_ID, fd.workerId as string);
  opt('deadLetterFile', flags.deadLetterFile as string, fd.deadLetterFile as string);

  const config: ConsumerConfig = {
    target: targetSpec,
    targetSettings: readSharedSettings(env),
    warnings: [],
    http: {
      port: num(pick(flags.httpPort, env.CDC_CACHE_HTTP_PORT, fh.port) ?? 9464, 'http.port'),
      host: pick(env.CDC_CACHE_HTTP_HOST, fh.host as string) ?? '127.0.0.1',
      enabled: (flags.http as boolean | undefined) ?? (fh.enabled as boolean | undefined) ?? true,
    },
    log: {
      level: parseLogLevel(
        pick(flags.logLevel as string, env.CDC_CACHE_LOG_LEVEL, fl.level as string) ?? 'info',
      ),
    },
    progress: (flags.progress as boolean | undefined) ?? (file.progress as boolean | undefined) ?? true,
    kafka,
    dynamodb,
  };
  const rules = resolveRulesSource(flags.rules as string | undefined, env, file.rules, config.warnings);
  if (rules !== undefined) config.rules = rules;
  return config;
}
