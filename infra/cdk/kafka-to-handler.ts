/**
 * Debezium topics on Amazon MSK or a self-managed Kafka cluster → the Kafka handler. One event source
 * mapping per topic (a mapping takes exactly one topic), each with its own consumer group (Lambda
 * requires group ids to be unique across Kafka event sources).
 *
 * The mappings run in provisioned mode: Kafka event sources accept the error handling controls
 * (ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts,
 * MaximumRecordAgeInSeconds) only with provisioned pollers. The handler's partial batch response
 * names the first unfinished record of each topic-partition; Lambda resumes each partition there.
 */
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type AuthenticationMethod,
  ManagedKafkaEventSource,
  SelfManagedKafkaEventSource,
  SqsDlq,
} from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Defaults of {@link KafkaToHandler}. */
export const KAFKA_TO_HANDLER_DEFAULTS = {
  consumerGroupPrefix: 'cdc-cache-lambda',
  batchSize: 500,
  maxBatchingWindowSeconds: 1,
  retryAttempts: 10,
  maxRecordAgeSeconds: 6 * 3600,
  minimumPollers: 1,
  maximumPollers: 3,
} as const;

/** An Amazon MSK cluster. */
export interface MskSource {
  readonly kind: 'msk';
  readonly clusterArn: string;
  /** SASL/SCRAM credentials; without it Lambda uses IAM (the function role). */
  readonly secret?: secretsmanager.ISecret;
}

/** A self-managed Kafka cluster (brokers reachable from the VPC, or over the internet with a secret). */
export interface SelfManagedKafkaSource {
  readonly kind: 'self-managed';
  /** `host:port` of the bootstrap brokers. */
  readonly bootstrapServers: string[];
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly securityGroup?: ec2.ISecurityGroup;
  /** @default SASL_SCRAM_512_AUTH */
  readonly authenticationMethod?: AuthenticationMethod;
  readonly secret?: secretsmanager.ISecret;
  /** Private CA of the brokers. */
  readonly rootCACertificate?: secretsmanager.ISecret;
}

/** Properties of {@link KafkaToHandler}. */
export interface KafkaToHandlerProps {
  /** The Kafka handler. */
  readonly handler: lambda.IFunction;
  /** Where the topics are. */
  readonly source: MskSource | SelfManagedKafkaSource;
  /** Debezium topics (`prefix.schema.table`), one mapping each. */
  readonly topics: readonly string[];
  /** Consumer group of topic T is `<prefix>.<T>`. @default 'cdc-cache-lambda' */
  readonly consumerGroupPrefix?: string;
  /** @default 500 */
  readonly batchSize?: number;
  /** @default 1 second */
  readonly maxBatchingWindow?: Duration;
  /** @default 10 */
  readonly retryAttempts?: number;
  /** @default 6 hours */
  readonly maxRecordAge?: Duration;
  /** @default TRIM_HORIZON */
  readonly startingPosition?: lambda.StartingPosition;
  /** Provisioned pollers per mapping. @default { minimumPollers: 1, maximumPollers: 3 } */
  readonly pollers?: { readonly minimumPollers: number; readonly maximumPollers: number };
  /** On-failure destination. @default a queue made here */
  readonly onFailureQueue?: sqs.IQueue;
}

/** Kafka event source mappings for a set of topics, with their failure queue. */
export class KafkaToHandler extends Construct {
  /** Batches that exhausted retries or aged out (metadata: topic, partition, offsets). */
  readonly onFailureQueue: sqs.IQueue;
  /** Consumer group per topic. */
  readonly consumerGroups: ReadonlyMap<string, string>;

  constructor(scope: Construct, id: string, props: KafkaToHandlerProps) {
    super(scope, id);
    if (props.topics.length === 0) throw new Error(`${this.node.path}: give at least one topic`);
    this.onFailureQueue =
      props.onFailureQueue ??
      new sqs.Queue(this, 'OnFailure', {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
    const prefix = props.consumerGroupPrefix ?? KAFKA_TO_HANDLER_DEFAULTS.consumerGroupPrefix;
    const groups = new Map<string, string>();
    for (const topic of props.topics) {
      const consumerGroupId = `${prefix}.${topic}`;
      groups.set(topic, consumerGroupId);
      const common = {
        topic,
        consumerGroupId,
        startingPosition: props.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON,
        batchSize: props.batchSize ?? KAFKA_TO_HANDLER_DEFAULTS.batchSize,
        maxBatchingWindow:
          props.maxBatchingWindow ?? Duration.seconds(KAFKA_TO_HANDLER_DEFAULTS.maxBatchingWindowSeconds),
        retryAttempts: props.retryAttempts ?? KAFKA_TO_HANDLER_DEFAULTS.retryAttempts,
        maxRecordAge: props.maxRecordAge ?? Duration.seconds(KAFKA_TO_HANDLER_DEFAULTS.maxRecordAgeSeconds),
        bisectBatchOnError: true,
        reportBatchItemFailures: true,
        provisionedPollerConfig: props.pollers ?? {
          minimumPollers: KAFKA_TO_HANDLER_DEFAULTS.minimumPollers,
          maximumPollers: KAFKA_TO_HANDLER_DEFAULTS.maximumPollers,
        },
        onFailure: new SqsDlq(this.onFailureQueue),
      };
      const s = props.source;
      const eventSource =
        s.kind === 'msk'
          ? new ManagedKafkaEventSource({
              ...common,
              clusterArn: s.clusterArn,
              ...(s.secret !== undefined ? { secret: s.secret } : {}),
            })
          : new SelfManagedKafkaEventSource({
              ...common,
              bootstrapServers: s.bootstrapServers,
              ...(s.vpc !== undefined ? { vpc: s.vpc } : {}),
              ...(s.vpcSubnets !== undefined ? { vpcSubnets: s.vpcSubnets } : {}),
              ...(s.securityGroup !== undefined ? { securityGroup: s.securityGroup } : {}),
              ...(s.authenticationMethod !== undefined
                ? { authenticationMethod: s.authenticationMethod }
                : {}),
              ...(s.secret !== undefined ? { secret: s.secret } : {}),
              ...(s.rootCACertificate !== undefined ? { rootCACertificate: s.rootCACertificate } : {}),
            });
      props.handler.addEventSource(eventSource);
    }
    this.consumerGroups = groups;
  }
}
