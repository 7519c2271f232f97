/**
 * The schemas of the consumers' three configuration inputs, on the one schema library
 * (core/config/validate.ts): the consumer config file (strict: an unknown option is an error with a
 * did-you-mean), the environment variables, and the command-line flags. The JSON Schema in
 * `schemas/cdc-cache.consumer.schema.json` is generated from {@link consumerFileSchema}.
 */
import * as v from 'valibot';
import { logLevel } from '../../core/config/log-level.ts';
import { targetSpec } from '../../core/config/target-spec.ts';
import { booleanText, integer, integerText, oneOf, stringList, text } from '../../core/config/validate.ts';

/** The Kafka client libraries `kafka.client` selects. */
export const KAFKA_CLIENTS = ['kafkajs', 'platformatic'] as const;
/**
 * The Kafka client when none is named: `@platformatic/kafka` (lower latency and higher throughput
 * than kafkajs in bench/results/consumers.md; its stream-error restart is tested against a broker
 * killed mid-consumption, test/e2e/consumers/kafka-broker-restart.test.ts).
 */
export const DEFAULT_KAFKA_CLIENT: (typeof KAFKA_CLIENTS)[number] = 'platformatic';
/** Where a shard without a checkpoint starts. */
export const START_POSITIONS = ['TRIM_HORIZON', 'LATEST'] as const;
/** Where shard leases and checkpoints live. */
export const LEASE_STORES = ['dynamodb', 'target', 'file'] as const;
/** SASL mechanisms. */
export const SASL_MECHANISMS = [
  'plain',
  'scram-sha-256',
  'scram-sha-512',
  'aws-msk-iam',
  'oauthbearer',
] as const;

const HOST_PORT = /^[^\s:,]+:\d+$/;

/** Bootstrap brokers: a list of `host:port`, or one comma-separated string (`"h1:9092,h2:9092"`). */
export const brokerList = () =>
  v.pipe(
    stringList('a list of "host:port"'),
    v.check(
      (list) => list.every((b) => HOST_PORT.test(b)),
      (i) => {
        const bad = (i.input as string[]).find((b) => !HOST_PORT.test(b));
        return `${JSON.stringify(bad)} is not "host:port"`;
      },
    ),
  );

/** A DynamoDB table name (3–255 of A-Z a-z 0-9 _ - .). */
export const tableName = () =>
  v.pipe(
    text('a DynamoDB table name'),
    v.regex(/^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name: 3 to 255 of A-Z a-z 0-9 _ - .'),
  );

/** A regular expression's source text. */
export const regexText = () =>
  v.pipe(
    text('a regular expression'),
    v.check(
      (s) => {
        try {
          new RegExp(s);
          return true;
        } catch {
          return false;
        }
      },
      (i) => {
        try {
          new RegExp(String(i.input));
          return 'not a regular expression';
        } catch (e) {
          return `not a regular expression: ${(e as Error).message}`;
        }
      },
    ),
  );

const tlsSchema = v.union(
  [
    v.boolean(),
    v.strictObject({
      caFile: v.exactOptional(text('the path of a PEM file')),
      certFile: v.exactOptional(text('the path of a PEM file')),
      keyFile: v.exactOptional(text('the path of a PEM file')),
      rejectUnauthorized: v.exactOptional(v.boolean('must be true or false')),
      servername: v.exactOptional(text()),
    }),
  ],
  'must be true, false or { caFile, certFile, keyFile, rejectUnauthorized, servername }',
);

const saslSchema = v.variant(
  'mechanism',
  [
    v.strictObject({
      mechanism: v.picklist(['plain', 'scram-sha-256', 'scram-sha-512']),
      username: text('the SASL user name'),
      password: text('the SASL password'),
    }),
    v.strictObject({ mechanism: v.literal('aws-msk-iam'), region: text('the AWS region') }),
    v.strictObject({ mechanism: v.literal('oauthbearer'), token: v.exactOptional(text('a token')) }),
  ],
  `must be an object whose mechanism is one of ${SASL_MECHANISMS.join(', ')}`,
);

/** The `kafka` section of the consumer config file. */
export const kafkaFileSchema = v.strictObject({
  brokers: v.optional(brokerList()),
  clientId: v.optional(text()),
  groupId: v.optional(text('the consumer group name')),
  topics: v.optional(stringList('a list of topic names')),
  topicPattern: v.optional(regexText()),
  fromBeginning: v.optional(v.boolean('must be true or false')),
  partitionsConsumedConcurrently: v.optional(integer(1)),
  chunkSize: v.optional(integer(1)),
  deadLetterTopic: v.optional(v.string('must be a topic name, or "" to log dead letters instead')),
  ssl: v.optional(tlsSchema),
  sasl: v.optional(saslSchema),
  sessionTimeoutMs: v.optional(integer(6000)),
  client: v.optional(oneOf(KAFKA_CLIENTS)),
  maxBytesPerPartition: v.optional(integer(1)),
  maxBytes: v.optional(integer(1)),
  maxWaitTimeMs: v.optional(integer(0)),
});

/** The `dynamodb` section of the consumer config file. */
export const dynamodbFileSchema = v.strictObject({
  streamArn: v.optional(text('a stream ARN')),
  table: v.optional(text('a table name')),
  endpoint: v.optional(v.pipe(text('a URL'), v.url('must be a URL such as http://127.0.0.1:8000'))),
  region: v.optional(text('an AWS region')),
  startPosition: v.optional(oneOf(START_POSITIONS)),
  leaseStore: v.optional(oneOf(LEASE_STORES)),
  leaseTable: v.optional(tableName()),
  stateDir: v.optional(text('a directory (relative to this file)')),
  workerId: v.optional(text()),
  leaseTtlMs: v.optional(integer(1000)),
  limit: v.optional(integer(1, 1000)),
  deadLetterFile: v.optional(text('a file path (relative to this file)')),
});

/** The consumer config file (`--consumer-config`, CDC_CACHE_CONSUMER_CONFIG). */
export const consumerFileSchema = v.strictObject({
  $schema: v.optional(v.string()),
  rules: v.optional(text('the path of the rules config (relative to this file)')),
  target: v.optional(targetSpec()),
  http: v.optional(
    v.strictObject({
      port: v.optional(integer(0, 65535)),
      host: v.optional(text('a host or address')),
      enabled: v.optional(v.boolean('must be true or false')),
    }),
  ),
  log: v.optional(v.strictObject({ level: v.optional(logLevel()) })),
  progress: v.optional(v.boolean('must be true or false')),
  kafka: v.optional(kafkaFileSchema),
  dynamodb: v.optional(dynamodbFileSchema),
});

/** A validated consumer config file. */
export type ConsumerFile = v.InferOutput<typeof consumerFileSchema>;

/** The consumers' own environment variables (the shared ones are in core/settings). */
export const consumerEnvSchema = v.object({
  CDC_CACHE_HTTP_PORT: v.optional(integerText(0, 65535)),
  CDC_CACHE_HTTP_HOST: v.optional(v.string()),
  CDC_CACHE_LOG_LEVEL: v.optional(logLevel()),
  CDC_CACHE_KAFKA_CLIENT: v.optional(oneOf(KAFKA_CLIENTS)),
  CDC_CACHE_KAFKA_BROKERS: v.optional(brokerList()),
  CDC_CACHE_KAFKA_GROUP_ID: v.optional(v.string()),
  CDC_CACHE_KAFKA_TOPICS: v.optional(stringList()),
  CDC_CACHE_KAFKA_TOPIC_PATTERN: v.optional(regexText()),
  CDC_CACHE_KAFKA_DLQ_TOPIC: v.optional(v.string()),
  CDC_CACHE_KAFKA_SSL: v.optional(booleanText()),
  CDC_CACHE_KAFKA_SSL_CA_FILE: v.optional(v.string()),
  CDC_CACHE_KAFKA_SASL_MECHANISM: v.optional(oneOf(SASL_MECHANISMS)),
  CDC_CACHE_KAFKA_SASL_USERNAME: v.optional(v.string()),
  CDC_CACHE_KAFKA_SASL_PASSWORD: v.optional(v.string()),
  CDC_CACHE_KAFKA_SASL_TOKEN: v.optional(v.string()),
  AWS_REGION: v.optional(v.string()),
  CDC_CACHE_DYNAMODB_ENDPOINT: v.optional(v.pipe(v.string(), v.url('must be a URL'))),
  CDC_CACHE_DYNAMODB_STREAM_ARN: v.optional(v.string()),
  CDC_CACHE_DYNAMODB_TABLE: v.optional(v.string()),
  CDC_CACHE_DYNAMODB_STATE_DIR: v.optional(v.string()),
  CDC_CACHE_DYNAMODB_WORKER_ID: v.optional(v.string()),
  CDC_CACHE_DYNAMODB_START: v.optional(oneOf(START_POSITIONS)),
  CDC_CACHE_DYNAMODB_LEASE_STORE: v.optional(oneOf(LEASE_STORES)),
  CDC_CACHE_DYNAMODB_LEASE_TABLE: v.optional(tableName()),
});

/** The flags of `cdc-cache consume` (parsed by node:util parseArgs: numbers arrive as text). */
export const consumerFlagsSchema = v.object({
  rules: v.optional(text('the path of the rules config')),
  target: v.optional(targetSpec()),
  httpPort: v.optional(v.union([integer(0, 65535), integerText(0, 65535)], 'must be an integer >= 0')),
  http: v.optional(v.boolean()),
  logLevel: v.optional(logLevel()),
  progress: v.optional(v.boolean()),
  brokers: v.optional(brokerList()),
  groupId: v.optional(text('the consumer group name')),
  topics: v.optional(stringList()),
  topicPattern: v.optional(regexText()),
  deadLetterTopic: v.optional(v.string()),
  fromBeginning: v.optional(v.boolean()),
  concurrency: v.optional(v.union([integer(1), integerText(1)], 'must be an integer >= 1')),
  chunkSize: v.optional(v.union([integer(1), integerText(1)], 'must be an integer >= 1')),
  kafkaClient: v.optional(oneOf(KAFKA_CLIENTS)),
  streamArn: v.optional(text()),
  table: v.optional(text()),
  endpoint: v.optional(v.pipe(v.string(), v.url('must be a URL'))),
  start: v.optional(oneOf(START_POSITIONS)),
  stateDir: v.optional(text()),
  leaseStore: v.optional(oneOf(LEASE_STORES)),
  leaseTable: v.optional(tableName()),
  workerId: v.optional(text()),
  leaseTtlMs: v.optional(v.union([integer(1000), integerText(1000)], 'must be an integer >= 1000')),
  deadLetterFile: v.optional(text()),
});

/** The command-line spelling of each flag, for messages. */
export const FLAG_NAMES: Readonly<Record<keyof v.InferInput<typeof consumerFlagsSchema>, string>> = {
  rules: '--config',
  target: '--target',
  httpPort: '--http-port',
  http: '--http',
  logLevel: '--log-level',
  progress: '--progress',
  brokers: '--brokers',
  groupId: '--group',
  topics: '--topic',
  topicPattern: '--topic-pattern',
  deadLetterTopic: '--dead-letter-topic',
  fromBeginning: '--from-latest',
  concurrency: '--concurrency',
  chunkSize: '--chunk-size',
  kafkaClient: '--kafka-client',
  streamArn: '--stream-arn',
  table: '--table',
  endpoint: '--endpoint',
  start: '--start',
  stateDir: '--state-dir',
  leaseStore: '--lease-store',
  leaseTable: '--lease-table',
  workerId: '--worker-id',
  leaseTtlMs: '--lease-ttl-ms',
  deadLetterFile: '--dead-letter-file',
};
