/**
 * The consumers' service configuration: a JSON file (`--consumer-config`, or `CDC_CACHE_CONSUMER_CONFIG`),
 * overridden by environment variables, overridden by command-line flags. Each input is validated
 * at the boundary by its schema (consumer-config-schema.ts): an unknown option, a wrong type or a
 * bad value is a ConfigError naming the file (or variable, or flag), the path and the fix, before
 * any connection. Relative paths in the file (`rules`, `dynamodb.stateDir`,
 * `dynamodb.deadLetterFile`, `kafka.ssl.*File`) resolve against the file's folder. A consumer has no
 * default target: it needs one named (`engine` for the in-process engine), so a misspelt `target`
 * can never send a whole topic into a throw-away in-process cache and commit its offsets.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type * as v from 'valibot';
import type { LogLevel } from '../../core/config/log-level.ts';
import { parseConfig } from '../../core/config/validate.ts';
import { ConfigError, ErrorCode } from '../../core/errors.ts';
import {
  parseEnv,
  presentEnv,
  type RulesSource,
  readSharedSettings,
  type SharedSettings,
} from '../../core/settings/shared-settings.ts';
import type { KafkaSaslOptions, KafkaTlsOptions } from '../kafka/connection-options.ts';
import {
  type ConsumerFile,
  consumerEnvSchema,
  consumerFileSchema,
  consumerFlagsSchema,
  DEFAULT_KAFKA_CLIENT,
  FLAG_NAMES,
  type KAFKA_CLIENTS,
} from './consumer-config-schema.ts';

export { DEFAULT_KAFKA_CLIENT, KAFKA_CLIENTS } from './consumer-config-schema.ts';

import { stripBom } from '../../core/json/utf8.ts';

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
   * The Kafka client library: `platformatic` (`@platformatic/kafka`, fetches ahead while batches
   * are processed; see consumers/kafka/platformatic-client.ts) or `kafkajs`.
   * @default 'platformatic' (DEFAULT_KAFKA_CLIENT)
   */
  client: KafkaClientName;
  /** Bytes fetched per partition per request. @default 1048576 */
  maxBytesPerPartition?: number;
  /** Bytes fetched per request, all partitions. @default 10485760 */
  maxBytes?: number;
  /** Longest time the broker holds a fetch waiting for data. @default 5000 */
  maxWaitTimeMs?: number;
}

/** One of {@link KAFKA_CLIENTS}. */
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

/** The lease table's name when none is given. */
export const DEFAULT_LEASE_TABLE = 'cdc-cache-leases';

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
   * Where shard leases and checkpoints live: `dynamodb` (a lease table, one item per shard, KCL
   * convention; see consumers/dynamodb/dynamodb-lease-store.ts), `target` (lock keys and checkpoint
   * keys in the cache target) or `file` (JSON files in `stateDir`, for workers on one host).
   * @default 'dynamodb' (a table never evicts a checkpoint), but 'file' when the target is the
   * in-process `engine` (local and dev runs: nothing to create, and the engine's keys die with the
   * worker, so checkpoints there would not survive a restart).
   */
  leaseStore: 'dynamodb' | 'target' | 'file';
  /** The lease table of `leaseStore: 'dynamodb'` (created on-demand when missing). @default 'cdc-cache-leases' */
  leaseTable: string;
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
  /** Target spec (`engine`, `engine://host:port`, `valkey://…`); required, no default. */
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

/** Where a consumer config file came from: its name for messages and the folder paths resolve against. */
export interface ConsumerConfigSource {
  /** The file's path as given. @default 'consumer config' */
  name?: string;
  /** Folder of the file; relative paths in it resolve against it. @default the working directory */
  dir?: string;
}

/** A consumer config file as read: its JSON and where it came from. */
export interface ConsumerConfigFile extends ConsumerConfigSource {
  data: unknown;
}

/** Reads the JSON config file (if any); validation happens in {@link resolveConsumerConfig}. */
export function readConsumerConfigFile(path: string | undefined): ConsumerConfigFile {
  if (path === undefined || path === '') return { data: {} };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`${path}: cannot read the consumer config (${(cause as Error).message})`, {
      cause,
      code: ErrorCode.ConfigFile,
      file: path,
    });
  }
  try {
    return { name: path, dir: dirname(resolve(path)), data: JSON.parse(stripBom(text)) };
  } catch (cause) {
    throw new ConfigError(`${path}: not valid JSON: ${(cause as Error).message}`, {
      cause,
      code: ErrorCode.ConfigFile,
      file: path,
    });
  }
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
  fileRules: string | undefined,
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
  return { kind: 'path', path: fileRules, from: 'rules (consumer config)' };
}

/** The first value that is set (flags, then environment, then file). */
const pick = <T>(...vals: (T | undefined)[]): T | undefined => vals.find((x) => x !== undefined);

function tlsRelativeTo(
  ssl: KafkaTlsOptions | undefined,
  dir: (p: string) => string,
): KafkaTlsOptions | undefined {
  if (ssl === undefined || typeof ssl === 'boolean') return ssl;
  const out = { ...ssl };
  for (const k of ['caFile', 'certFile', 'keyFile'] as const) if (out[k] !== undefined) out[k] = dir(out[k]);
  return out;
}

/**
 * Resolves the config: `flags` (already parsed, only the ones given) over `env` over `file`, each
 * validated by its schema first. `source` names the file and the folder its relative paths start
 * from. Throws ConfigError (one line: source, path, fix) before anything is opened.
 */
export function resolveConsumerConfig(
  fileData: unknown,
  env: NodeJS.ProcessEnv,
  rawFlags: Record<string, unknown> = {},
  source: ConsumerConfigSource = {},
): ConsumerConfig {
  const name = source.name ?? 'consumer config';
  const baseDir = source.dir ?? process.cwd();
  const rel = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const file: ConsumerFile = parseConfig(consumerFileSchema, fileData ?? {}, name);
  const e = parseEnv(consumerEnvSchema, env);
  const given = Object.fromEntries(Object.entries(rawFlags).filter(([, x]) => x !== undefined));
  const flags = parseConfig(consumerFlagsSchema, given, 'command line', (path) => {
    const flag = FLAG_NAMES[path as keyof typeof FLAG_NAMES] ?? path;
    const value = given[path];
    return value === undefined || typeof value === 'boolean' ? flag : `${flag}=${String(value)}`;
  });
  const shared = readSharedSettings(env);
  const fk = file.kafka ?? {};
  const fd = file.dynamodb ?? {};

  const sasl = pick<KafkaSaslOptions>(saslFromEnv(e), fk.sasl);
  const ssl = pick<KafkaTlsOptions>(
    e.CDC_CACHE_KAFKA_SSL_CA_FILE !== undefined ? { caFile: e.CDC_CACHE_KAFKA_SSL_CA_FILE } : undefined,
    e.CDC_CACHE_KAFKA_SSL === true ? true : undefined,
    tlsRelativeTo(fk.ssl, rel),
  );
  const kafka: KafkaSection = {
    brokers: pick(flags.brokers, e.CDC_CACHE_KAFKA_BROKERS, fk.brokers) ?? [],
    groupId: pick(flags.groupId, e.CDC_CACHE_KAFKA_GROUP_ID, fk.groupId) ?? 'cdc-cache',
    topics: pick(flags.topics, e.CDC_CACHE_KAFKA_TOPICS, fk.topics) ?? [],
    fromBeginning: pick(flags.fromBeginning, fk.fromBeginning) ?? true,
    partitionsConsumedConcurrently: pick(flags.concurrency, fk.partitionsConsumedConcurrently) ?? 4,
    chunkSize: pick(flags.chunkSize, fk.chunkSize) ?? 2000,
    client: pick(flags.kafkaClient, e.CDC_CACHE_KAFKA_CLIENT, fk.client) ?? DEFAULT_KAFKA_CLIENT,
    // "" is a value here (log dead letters instead of producing them), so `env` is read raw.
    deadLetterTopic:
      pick(flags.deadLetterTopic, env.CDC_CACHE_KAFKA_DLQ_TOPIC, fk.deadLetterTopic) ??
      'cdc-cache.dead-letters',
  };
  const topicPattern = pick(flags.topicPattern, e.CDC_CACHE_KAFKA_TOPIC_PATTERN, fk.topicPattern);
  if (topicPattern !== undefined) kafka.topicPattern = topicPattern;
  if (ssl !== undefined) kafka.ssl = ssl;
  if (sasl !== undefined) kafka.sasl = sasl;
  if (fk.clientId !== undefined) kafka.clientId = fk.clientId;
  if (fk.sessionTimeoutMs !== undefined) kafka.sessionTimeoutMs = fk.sessionTimeoutMs;
  if (fk.maxBytesPerPartition !== undefined) kafka.maxBytesPerPartition = fk.maxBytesPerPartition;
  if (fk.maxBytes !== undefined) kafka.maxBytes = fk.maxBytes;
  if (fk.maxWaitTimeMs !== undefined) kafka.maxWaitTimeMs = fk.maxWaitTimeMs;

  const target = pick(flags.target, shared.target, file.target);
  if (target === undefined)
    throw new ConfigError(
      `${name}: target: missing: a consumer needs its cache target named: --target, CDC_CACHE_TARGET or "target" in the consumer config (valkey://host:port, engine://host:port, or "engine" for the in-process engine)`,
      { code: ErrorCode.ConfigMissing, file: name, path: 'target' },
    );
  const dynamodb: DynamoDbSection = {
    region: pick(e.AWS_REGION, fd.region) ?? 'us-east-1',
    startPosition: pick(flags.start, e.CDC_CACHE_DYNAMODB_START, fd.startPosition) ?? 'TRIM_HORIZON',
    leaseStore:
      pick(flags.leaseStore, e.CDC_CACHE_DYNAMODB_LEASE_STORE, fd.leaseStore) ??
      (target === 'engine' ? 'file' : 'dynamodb'),
    leaseTable:
      pick(flags.leaseTable, e.CDC_CACHE_DYNAMODB_LEASE_TABLE, fd.leaseTable) ?? DEFAULT_LEASE_TABLE,
    stateDir:
      pick(
        flags.stateDir,
        e.CDC_CACHE_DYNAMODB_STATE_DIR,
        fd.stateDir === undefined ? undefined : rel(fd.stateDir),
      ) ?? './.cdc-cache/dynamodb',
    leaseTtlMs: pick(flags.leaseTtlMs, fd.leaseTtlMs) ?? 10_000,
    limit: fd.limit ?? 1000,
  };
  const opt = <K extends 'streamArn' | 'table' | 'endpoint' | 'workerId' | 'deadLetterFile'>(
    k: K,
    value: string | undefined,
  ) => {
    if (value !== undefined) dynamodb[k] = value;
  };
  opt('streamArn', pick(flags.streamArn, e.CDC_CACHE_DYNAMODB_STREAM_ARN, fd.streamArn));
  opt('table', pick(flags.table, e.CDC_CACHE_DYNAMODB_TABLE, fd.table));
  opt('endpoint', pick(flags.endpoint, e.CDC_CACHE_DYNAMODB_ENDPOINT, fd.endpoint));
  opt('workerId', pick(flags.workerId, e.CDC_CACHE_DYNAMODB_WORKER_ID, fd.workerId));
  opt(
    'deadLetterFile',
    pick(flags.deadLetterFile, fd.deadLetterFile === undefined ? undefined : rel(fd.deadLetterFile)),
  );

  const config: ConsumerConfig = {
    target,
    targetSettings: shared,
    warnings: [],
    http: {
      port: pick(flags.httpPort, e.CDC_CACHE_HTTP_PORT, file.http?.port) ?? 9464,
      host: pick(e.CDC_CACHE_HTTP_HOST, file.http?.host) ?? '127.0.0.1',
      enabled: pick(flags.http, file.http?.enabled) ?? true,
    },
    log: { level: pick<LogLevel>(flags.logLevel, e.CDC_CACHE_LOG_LEVEL, file.log?.level) ?? 'info' },
    progress: pick(flags.progress, file.progress) ?? true,
    kafka,
    dynamodb,
  };
  const rules = resolveRulesSource(
    flags.rules,
    presentEnv(env),
    file.rules === undefined ? undefined : rel(file.rules),
    config.warnings,
  );
  if (rules !== undefined) config.rules = rules;
  return config;
}

/**
 * The Kafka TLS and SASL settings the consumers read from the environment (CDC_CACHE_KAFKA_SSL,
 * CDC_CACHE_KAFKA_SSL_CA_FILE, CDC_CACHE_KAFKA_SASL_*), for tools that reach the same brokers
 * (`cdc-cache dead-letters kafka://…`): one reading, not a second dialect.
 */
export function kafkaConnectionFromEnv(env: Readonly<Record<string, string | undefined>>): {
  ssl?: KafkaTlsOptions;
  sasl?: KafkaSaslOptions;
} {
  const e = parseEnv(consumerEnvSchema, env);
  const out: { ssl?: KafkaTlsOptions; sasl?: KafkaSaslOptions } = {};
  const sasl = saslFromEnv(e);
  if (sasl !== undefined) out.sasl = sasl;
  if (e.CDC_CACHE_KAFKA_SSL_CA_FILE !== undefined) out.ssl = { caFile: e.CDC_CACHE_KAFKA_SSL_CA_FILE };
  else if (e.CDC_CACHE_KAFKA_SSL === true) out.ssl = true;
  return out;
}

function saslFromEnv(e: v.InferOutput<typeof consumerEnvSchema>): KafkaSaslOptions | undefined {
  const mechanism = e.CDC_CACHE_KAFKA_SASL_MECHANISM;
  if (mechanism === undefined) return undefined;
  const missing = (name: string) =>
    new ConfigError(`environment: ${name}: missing: CDC_CACHE_KAFKA_SASL_MECHANISM=${mechanism} needs it`, {
      code: ErrorCode.ConfigMissing,
      file: 'environment',
      path: name,
    });
  if (mechanism === 'aws-msk-iam') {
    if (e.AWS_REGION === undefined) throw missing('AWS_REGION');
    return { mechanism, region: e.AWS_REGION };
  }
  if (mechanism === 'oauthbearer')
    return e.CDC_CACHE_KAFKA_SASL_TOKEN === undefined
      ? { mechanism }
      : { mechanism, token: e.CDC_CACHE_KAFKA_SASL_TOKEN };
  if (e.CDC_CACHE_KAFKA_SASL_USERNAME === undefined) throw missing('CDC_CACHE_KAFKA_SASL_USERNAME');
  if (e.CDC_CACHE_KAFKA_SASL_PASSWORD === undefined) throw missing('CDC_CACHE_KAFKA_SASL_PASSWORD');
  return {
    mechanism,
    username: e.CDC_CACHE_KAFKA_SASL_USERNAME,
    password: e.CDC_CACHE_KAFKA_SASL_PASSWORD,
  };
}
