/**
 * The deployment config the user writes (`cdc-cache.deploy.json`), read and checked once, at synth,
 * with the path of every mistake and its fix. It names the rules file (JSON: the same rules the
 * handlers and the consumer run), the network, the cache, and the sources. See README "Deployment".
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type * as v from 'valibot';
import { parseConfig } from '../../core/config/validate.ts';
import { ConfigError, ErrorCode } from '../../core/errors.ts';
import { compileConfig } from '../../core/rules/compile.ts';
import type { CdcCacheConfig } from '../../core/rules/config.ts';
import { deployFileSchema } from './deploy-schema.ts';

/** A table to follow: one made here (`create`), or an existing one with its stream. */
export interface DeployTable {
  /** The table name (as the rules name it). */
  name: string;
  /** Make the table here, with the stream view type the rules need. */
  create?: { partitionKey: string; sortKey?: string };
  /** Existing table: its stream ARN. */
  streamArn?: string;
  /** Existing table: what its stream captures (checked against the rules). */
  streamViewType?: 'KEYS_ONLY' | 'NEW_IMAGE' | 'OLD_IMAGE' | 'NEW_AND_OLD_IMAGES';
  /** Existing table: its key attribute names (for the check). */
  keyAttributes?: string[];
  /**
   * Read the stream with the poller on Fargate (StreamPollerService: balanced shard leases in a
   * lease table) instead of the Lambda handler. `shards`: the stream's open shard count; `tasks`
   * (≤ shards, default min(2, shards)); `image`: "asset" (builds infra/container) or an image URI.
   */
  poller?: { shards: number; tasks?: number; image?: string; leaseTtlMs?: number };
}

/** The whole deployment config. */
export interface DeployConfig {
  /** The JSON Schema the file follows (editors), ignored. */
  $schema?: string;
  /** @default 'cdc-cache' */
  stackName?: string;
  /** Where to deploy. @default the CLI's account and region */
  env?: { account?: string; region?: string };
  /** Path of the rules config (JSON), relative to this file. */
  rules: string;
  /** Make a VPC, or use one (no lookup: give its ids). @default { create: {} } */
  vpc?: {
    create?: { maxAzs?: number; natGateways?: number };
    vpcId?: string;
    availabilityZones?: string[];
    privateSubnetIds?: string[];
  };
  /** The cache: ElastiCache Serverless for Valkey made here, or an external target. @default serverless-valkey */
  cache?:
    | { kind: 'serverless-valkey'; maxDataStorageGb?: number; maxEcpuPerSecond?: number; userName?: string }
    | { kind: 'external'; url: string; username?: string; passwordSecretArn?: string };
  dynamodb?: {
    tables: DeployTable[];
    batchSize?: number;
    parallelizationFactor?: number;
    retryAttempts?: number;
    maxRecordAgeSeconds?: number;
  };
  kafka?: {
    /** Debezium topics (`prefix.schema.table`). */
    topics: string[];
    msk?: { clusterArn: string; clusterName: string; scramSecretArn?: string };
    selfManaged?: {
      bootstrapServers: string[];
      secretArn?: string;
      authentication?:
        | 'SASL_SCRAM_512_AUTH'
        | 'SASL_SCRAM_256_AUTH'
        | 'BASIC_AUTH'
        | 'CLIENT_CERTIFICATE_TLS_AUTH';
    };
    /** Who reads the topics: the Lambda handler or the Fargate consumer. @default 'lambda' */
    via?: 'lambda' | 'consumer';
    consumer?: {
      /** Bootstrap brokers for the consumer (MSK: the SASL/SCRAM or TLS bootstrap string). */
      brokers: string[];
      /** `asset` builds infra/container/Dockerfile at deploy (needs Docker); else an image URI. @default 'asset' */
      image?: string;
      ssl?: boolean;
      sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; secretArn: string };
      groupId?: string;
      minTasks?: number;
      maxTasks?: number;
      scaleOutLag?: number;
      /** Self-managed Kafka: the CloudWatch metric carrying the group's lag. MSK: derived. */
      lagMetric?: { namespace: string; metricName: string; dimensions?: Record<string, string> };
    };
  };
  alarms?: { email?: string; iteratorAgeSeconds?: number };
}

/** A loaded deployment: the config and the rules it names. */
export interface LoadedDeployment {
  config: DeployConfig;
  rules: CdcCacheConfig;
}

function fail(path: string, where: string, fix: string): never {
  throw new ConfigError(`${path}: ${where}: ${fix}`, {
    code: ErrorCode.ConfigValue,
    file: path,
    path: where,
  });
}

// The schema's output must fit the documented type (a compile-time check, no runtime cost).
const _fits: (x: v.InferOutput<typeof deployFileSchema>) => DeployConfig = (x) => x;
void _fits;

/**
 * Checks a deployment config: its shape against the schema (unknown options, types), then the
 * rules and the cross-field checks; throws a ConfigError with the path and the fix.
 */
export function checkDeployConfig(
  config: unknown,
  rules: CdcCacheConfig,
  path = 'deploy config',
): DeployConfig {
  const parsed: DeployConfig = parseConfig(deployFileSchema, config, path);
  semanticChecks(parsed, rules, path);
  return parsed;
}

function semanticChecks(config: DeployConfig, rules: CdcCacheConfig, path: string): void {
  compileConfig(rules, `${path}: rules`);
  const isStr = (v: unknown) => typeof v === 'string' && v !== '';
  if (!isStr(config.rules)) fail(path, 'rules', 'give the path of the rules config (JSON)');
  if (config.dynamodb === undefined && config.kafka === undefined)
    fail(path, 'dynamodb / kafka', 'give at least one source');
  const vpc = config.vpc;
  if (
    vpc?.vpcId !== undefined &&
    ((vpc.privateSubnetIds ?? []).length === 0 || !vpc.availabilityZones?.length)
  )
    fail(path, 'vpc', 'an existing VPC needs privateSubnetIds and availabilityZones (no lookups at synth)');
  const cache = config.cache;
  if (cache?.kind === 'external' && !/^(valkeys?|engine):\/\//.test(cache.url))
    fail(path, 'cache.url', 'use valkeys://host:port (or valkey://, engine://)');
  config.dynamodb?.tables.forEach((t, i) => {
    const w = `dynamodb.tables[${i}]`;
    if (!isStr(t.name)) fail(path, `${w}.name`, 'give the table name');
    if ((t.create === undefined) === (t.streamArn === undefined))
      fail(path, w, 'give either "create" (a table made here) or "streamArn" (an existing table)');
    if (t.poller !== undefined && (t.poller.tasks ?? 1) > t.poller.shards)
      fail(
        path,
        `${w}.poller.tasks`,
        `at most poller.shards (${t.poller.shards}): a task beyond the shard count holds none`,
      );
    if (t.streamArn !== undefined && t.streamViewType === undefined)
      fail(
        path,
        `${w}.streamViewType`,
        'give what the existing stream captures (it is checked against the rules)',
      );
  });
  const k = config.kafka;
  if (k !== undefined) {
    if (k.topics.length === 0) fail(path, 'kafka.topics', 'give at least one Debezium topic');
    if ((k.msk === undefined) === (k.selfManaged === undefined))
      fail(path, 'kafka', 'give either "msk" or "selfManaged"');
    if (k.via === 'consumer') {
      if (k.consumer === undefined || k.consumer.brokers.length === 0)
        fail(path, 'kafka.consumer.brokers', 'the consumer needs its bootstrap brokers');
      if (k.msk === undefined && k.consumer.lagMetric === undefined)
        fail(
          path,
          'kafka.consumer.lagMetric',
          'self-managed Kafka: name the CloudWatch metric with the group lag',
        );
    }
  }
}

/** Reads `path` (JSON) and the rules file it names (relative to `path`). */
export function loadDeployConfig(path: string): LoadedDeployment {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError(`${path}: cannot read the deployment config: ${(cause as Error).message}`, {
      cause,
      code: ErrorCode.ConfigFile,
      file: path,
    });
  }
  const shape = parseConfig(deployFileSchema, raw, path);
  const rulesPath = resolve(dirname(path), shape.rules);
  let rules: CdcCacheConfig;
  try {
    rules = JSON.parse(readFileSync(rulesPath, 'utf8')) as CdcCacheConfig;
  } catch (cause) {
    throw new ConfigError(`${path}: rules: cannot read ${rulesPath} as JSON: ${(cause as Error).message}`, {
      cause,
      code: ErrorCode.ConfigFile,
      file: path,
      path: 'rules',
    });
  }
  const config = checkDeployConfig(raw, rules, path);
  return { config, rules };
}
