/**
 * The schema of the deployment config (`cdc-cache.deploy.json`), on the project's one schema
 * library (core/config/validate.ts): unknown options are errors with a did-you-mean, wrong types
 * name the path and the expected type. The semantic checks (a source given, an existing VPC's
 * subnets, …) stay in deploy-config.ts. `schemas/cdc-cache.deploy.schema.json` is generated from it.
 */
import * as v from 'valibot';
import { integer, oneOf, text } from '../../core/config/validate.ts';

const opt = v.exactOptional;
const strings = (what: string) => v.array(text(what), `must be a list of ${what}s`);
const arn = (what: string) =>
  v.pipe(text(`the ARN of ${what}`), v.startsWith('arn:', `must be the ARN of ${what}`));

/** Stream view types of an existing table's stream. */
export const STREAM_VIEW_TYPES = ['KEYS_ONLY', 'NEW_IMAGE', 'OLD_IMAGE', 'NEW_AND_OLD_IMAGES'] as const;

const tableSchema = v.strictObject({
  name: text('the table name'),
  create: opt(
    v.strictObject({ partitionKey: text('an attribute name'), sortKey: opt(text('an attribute name')) }),
  ),
  streamArn: opt(arn('the table stream')),
  streamViewType: opt(oneOf(STREAM_VIEW_TYPES)),
  keyAttributes: opt(strings('attribute name')),
  poller: opt(
    v.strictObject({
      shards: integer(1),
      tasks: opt(integer(1)),
      image: opt(text('"asset" or an image URI')),
      leaseTtlMs: opt(integer(1000)),
    }),
  ),
});

const cacheSchema = v.variant(
  'kind',
  [
    v.strictObject({
      kind: v.literal('serverless-valkey'),
      maxDataStorageGb: opt(integer(1)),
      maxEcpuPerSecond: opt(integer(1000)),
      userName: opt(text('an ACL user name')),
    }),
    v.strictObject({
      kind: v.literal('external'),
      url: text('the cache URL without credentials (valkeys://host:port)'),
      username: opt(text('an ACL user name')),
      passwordSecretArn: opt(arn('a Secrets Manager secret whose JSON field "password" is the password')),
    }),
  ],
  'must be { "kind": "serverless-valkey", … } or { "kind": "external", "url": … }',
);

const consumerSchema = v.strictObject({
  brokers: strings('"host:port"'),
  image: opt(text('"asset" or an image URI')),
  ssl: opt(v.boolean('must be true or false')),
  sasl: opt(
    v.strictObject({
      mechanism: oneOf(['plain', 'scram-sha-256', 'scram-sha-512']),
      secretArn: arn('a Secrets Manager secret with username and password'),
    }),
  ),
  groupId: opt(text('a consumer group name')),
  minTasks: opt(integer(0)),
  maxTasks: opt(integer(1)),
  scaleOutLag: opt(integer(1)),
  lagMetric: opt(
    v.strictObject({
      namespace: text('a CloudWatch namespace'),
      metricName: text('a metric name'),
      dimensions: opt(v.record(v.string(), v.string(), 'must map dimension names to values')),
    }),
  ),
});

/** The whole deployment config file. */
export const deployFileSchema = v.strictObject({
  $schema: opt(v.string()),
  stackName: opt(text('a stack name')),
  env: opt(v.strictObject({ account: opt(text('an account id')), region: opt(text('a region')) })),
  rules: text('the path of the rules config (JSON), relative to this file'),
  vpc: opt(
    v.strictObject({
      create: opt(v.strictObject({ maxAzs: opt(integer(1)), natGateways: opt(integer(0)) })),
      vpcId: opt(text('a VPC id')),
      availabilityZones: opt(strings('availability zone')),
      privateSubnetIds: opt(strings('subnet id')),
    }),
  ),
  cache: opt(cacheSchema),
  dynamodb: opt(
    v.strictObject({
      tables: v.array(tableSchema, 'must be a list of tables'),
      batchSize: opt(integer(1, 10000)),
      parallelizationFactor: opt(integer(1, 10)),
      retryAttempts: opt(integer(-1, 10000)),
      maxRecordAgeSeconds: opt(integer(-1, 604800)),
    }),
  ),
  kafka: opt(
    v.strictObject({
      topics: strings('topic name'),
      msk: opt(
        v.strictObject({
          clusterArn: arn('the MSK cluster'),
          clusterName: text('the MSK cluster name'),
          scramSecretArn: opt(arn('the SCRAM secret')),
        }),
      ),
      selfManaged: opt(
        v.strictObject({
          bootstrapServers: strings('"host:port"'),
          secretArn: opt(arn('the Kafka credentials secret')),
          authentication: opt(
            oneOf([
              'SASL_SCRAM_512_AUTH',
              'SASL_SCRAM_256_AUTH',
              'BASIC_AUTH',
              'CLIENT_CERTIFICATE_TLS_AUTH',
            ]),
          ),
        }),
      ),
      via: opt(oneOf(['lambda', 'consumer'])),
      consumer: opt(consumerSchema),
    }),
  ),
  alarms: opt(
    v.strictObject({
      email: opt(v.pipe(v.string(), v.email('must be an e-mail address'))),
      iteratorAgeSeconds: opt(integer(1)),
    }),
  ),
});
