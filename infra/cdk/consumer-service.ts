/**
 * The long-running Kafka (Debezium) consumer on ECS Fargate: the service image
 * (infra/container/Dockerfile, `cdc-cache consume kafka`), the rules inline in the task definition
 * (CDC_CACHE_RULES), the target password and the Kafka SASL credentials injected from Secrets
 * Manager, a container health check on `/livez`, a deployment circuit breaker, and step scaling on
 * consumer lag.
 *
 * Scaling: more tasks than partitions sit idle (a partition belongs to one group member), so
 * `maxTasks` should not exceed the partition count of the busiest topic. A task stopping drains:
 * SIGTERM → finish the batch in flight, commit, leave the group (stopTimeout leaves room for it).
 *
 * The DynamoDB Streams poller is not run here: DynamoDB streams deploy through Lambda
 * (StreamToHandler), or the poller on Fargate with its lease table (StreamPollerService).
 */
import { Duration } from 'aws-cdk-lib';
import { AdjustmentType } from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type ContainerServiceProps, containerPropsOf, createFargateConsumer } from './fargate-consumer.ts';

/** Defaults of {@link ConsumerService}. */
export const CONSUMER_SERVICE_DEFAULTS = {
  cpu: 512,
  memoryLimitMiB: 1024,
  httpPort: 9464,
  groupId: 'cdc-cache',
  minTasks: 1,
  maxTasks: 4,
  scaleOutLag: 10_000,
  scaleInLag: 100,
  stopTimeoutSeconds: 60,
} as const;

/**
 * The container's command (after the image's `ENTRYPOINT ["node", "bin/cdc-cache.ts"]`): node is
 * PID 1 and receives SIGTERM directly. The rules travel inline in CDC_CACHE_RULES and the target
 * AUTH in CDC_CACHE_TARGET_USERNAME / CDC_CACHE_TARGET_PASSWORD — the same variables as the Lambda
 * handlers — so no start script writes files or rewrites the target URL.
 */
const COMMAND = ['consume', 'kafka', '--no-progress'];

/** Kafka connection of the consumer. */
export interface ConsumerKafkaProps {
  /** `host:port` bootstrap brokers (MSK: the TLS/SASL bootstrap string, split on commas). */
  readonly brokers: readonly string[];
  /** Topics to follow; or `topicPattern`. */
  readonly topics?: readonly string[];
  /** A regular expression over topic names (`^dbserver1\\.public\\..*`). */
  readonly topicPattern?: string;
  /** @default 'cdc-cache' */
  readonly groupId?: string;
  /** Dead-letter topic for poison records; `''` logs them instead. @default the consumer's ('cdc-cache.dead-letters') */
  readonly deadLetterTopic?: string;
  /** TLS to the brokers (MSK: true). @default false */
  readonly ssl?: boolean;
  /** SASL; the secret's JSON has `username` and `password` (the MSK SCRAM secret shape). */
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly secret: secretsmanager.ISecret;
  };
}

/** Properties of {@link ConsumerService}. */
export interface ConsumerServiceProps extends ContainerServiceProps {
  readonly kafka: ConsumerKafkaProps;
  /** Consumer lag of the group (messages): the scaling signal and the lag alarm's metric.
   *  MSK: {@link mskConsumerLag}. Self-managed Kafka: a metric your monitoring publishes. */
  readonly lagMetric: cloudwatch.IMetric;
  /** @default { minTasks: 1, maxTasks: 4, scaleOutLag: 10000, scaleInLag: 100 } */
  readonly scaling?: {
    readonly minTasks?: number;
    readonly maxTasks?: number;
    /** Lag above which a task is added (two more above ten times it). */
    readonly scaleOutLag?: number;
    /** Lag below which a task is removed. */
    readonly scaleInLag?: number;
  };
  /** @default 512 (.5 vCPU) */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryLimitMiB?: number;
  /** Extra environment variables (CDC_CACHE_LOG_LEVEL, …). */
  readonly environment?: Record<string, string>;
}

/** The Kafka consumer service with its task definition, security group and lag scaling. */
export class ConsumerService extends Construct implements ec2.IConnectable {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly connections: ec2.Connections;
  readonly lagMetric: cloudwatch.IMetric;

  constructor(scope: Construct, id: string, props: ConsumerServiceProps) {
    super(scope, id);
    const k = props.kafka;
    if (k.brokers.length === 0)
      throw new Error(`${this.node.path}: kafka.brokers: give at least one "host:port"`);
    if ((k.topics ?? []).length === 0 && k.topicPattern === undefined)
      throw new Error(`${this.node.path}: kafka: give topics or topicPattern`);
    const scaling = { ...CONSUMER_SERVICE_DEFAULTS, ...props.scaling };
    if (scaling.minTasks < 1 || scaling.maxTasks < scaling.minTasks)
      throw new Error(`${this.node.path}: scaling: need 1 <= minTasks <= maxTasks`);
    if (scaling.scaleInLag >= scaling.scaleOutLag)
      throw new Error(`${this.node.path}: scaling: scaleInLag must be below scaleOutLag`);
    this.lagMetric = props.lagMetric;

    const environment: Record<string, string> = {
      CDC_CACHE_KAFKA_BROKERS: k.brokers.join(','),
      CDC_CACHE_KAFKA_GROUP_ID: k.groupId ?? CONSUMER_SERVICE_DEFAULTS.groupId,
    };
    if (k.topics !== undefined && k.topics.length > 0)
      environment.CDC_CACHE_KAFKA_TOPICS = k.topics.join(',');
    if (k.topicPattern !== undefined) environment.CDC_CACHE_KAFKA_TOPIC_PATTERN = k.topicPattern;
    if (k.deadLetterTopic !== undefined) environment.CDC_CACHE_KAFKA_DLQ_TOPIC = k.deadLetterTopic;
    if (k.ssl === true) environment.CDC_CACHE_KAFKA_SSL = 'true';
    const secrets: Record<string, ecs.Secret> = {};
    if (k.sasl !== undefined) {
      environment.CDC_CACHE_KAFKA_SASL_MECHANISM = k.sasl.mechanism;
      secrets.CDC_CACHE_KAFKA_SASL_USERNAME = ecs.Secret.fromSecretsManager(k.sasl.secret, 'username');
      secrets.CDC_CACHE_KAFKA_SASL_PASSWORD = ecs.Secret.fromSecretsManager(k.sasl.secret, 'password');
    }

    const made = createFargateConsumer(this, {
      ...containerPropsOf(props),
      name: 'consumer',
      description: 'cdc-cache Kafka consumer',
      cpu: props.cpu ?? CONSUMER_SERVICE_DEFAULTS.cpu,
      memoryLimitMiB: props.memoryLimitMiB ?? CONSUMER_SERVICE_DEFAULTS.memoryLimitMiB,
      command: COMMAND,
      environment,
      secrets,
      extraEnvironment: props.environment,
      httpPort: CONSUMER_SERVICE_DEFAULTS.httpPort,
      stopTimeoutSeconds: CONSUMER_SERVICE_DEFAULTS.stopTimeoutSeconds,
      desiredCount: scaling.minTasks,
    });
    this.taskDefinition = made.taskDefinition;
    this.container = made.container;
    this.service = made.service;
    this.connections = this.service.connections;

    const scalable = this.service.autoScaleTaskCount({
      minCapacity: scaling.minTasks,
      maxCapacity: scaling.maxTasks,
    });
    scalable.scaleOnMetric('ScaleOnConsumerLag', {
      metric: props.lagMetric,
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: scaling.scaleInLag, change: -1 },
        { lower: scaling.scaleOutLag, change: +1 },
        { lower: scaling.scaleOutLag * 10, change: +2 },
      ],
      cooldown: Duration.minutes(2),
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    });
  }
}

/**
 * The MSK consumer-lag metric of a group (`AWS/Kafka` `SumOffsetLag`, per topic), summed over
 * topics. MSK publishes it for consumer groups that commit offsets, which the consumer does.
 */
export function mskConsumerLag(props: {
  readonly clusterName: string;
  readonly consumerGroup: string;
  readonly topics: readonly string[];
}): cloudwatch.IMetric {
  const perTopic = props.topics.map(
    (topic) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Kafka',
        metricName: 'SumOffsetLag',
        dimensionsMap: {
          'Cluster Name': props.clusterName,
          'Consumer Group': props.consumerGroup,
          Topic: topic,
        },
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
  );
  if (perTopic.length === 1) return perTopic[0]!;
  if (perTopic.length === 0) throw new Error('mskConsumerLag: give at least one topic');
  const usingMetrics = Object.fromEntries(perTopic.map((m, i) => [`t${i}`, m]));
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics).join(' + '),
    usingMetrics,
    label: `consumer lag of ${props.consumerGroup}`,
    period: Duration.minutes(1),
  });
}
