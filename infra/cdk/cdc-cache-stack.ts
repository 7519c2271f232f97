/**
 * The deployable stack: the constructs of this folder wired from one deployment config
 * (deploy-config.ts). Users with their own stacks use the constructs directly; this stack is what
 * `npm run synth` / `cdk deploy` build from `cdc-cache.deploy.json`.
 *
 * Wiring: VPC (made or imported by ids) → Valkey (serverless, or an external URL) → handlers in the
 * VPC, admitted to the cache → DynamoDB streams and Kafka topics → the handlers (or the Fargate
 * consumer) → alarms on every function, failure queue and consumer lag.
 */
import { Duration, IgnoreMode, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { AuthenticationMethod } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { CdcCacheConfig } from '../../core/rules/config.ts';
import type { CacheConnection } from './cache-connection.ts';
import { CacheFunction } from './cache-function.ts';
import { CdcAlarms } from './cdc-alarms.ts';
import { ConsumerService, mskConsumerLag } from './consumer-service.ts';
import type { DeployConfig } from './deploy-config.ts';
import { asInterface } from './jsii-interop.ts';
import { KafkaToHandler } from './kafka-to-handler.ts';
import { REPO_ROOT } from './paths.ts';
import { ServerlessValkey } from './serverless-valkey.ts';
import { StreamPollerService } from './stream-poller-service.ts';
import { StreamToHandler } from './stream-to-handler.ts';
import { streamViewTypeFor } from './stream-view-type.ts';

/** Properties of {@link CdcCacheStack}. */
export interface CdcCacheStackProps extends StackProps {
  readonly deploy: DeployConfig;
  readonly rules: CdcCacheConfig;
  /** Handler code per handler. @default the bundles in dist/functions */
  readonly functionCode?: (handler: 'dynamodb' | 'kafka') => lambda.Code;
  /** The consumer image. @default from the config: an asset of infra/container/Dockerfile, or a registry URI */
  readonly consumerImage?: ecs.ContainerImage;
}

/**
 * Builds the consumer image from infra/container/Dockerfile with the repository root as context.
 * Staging skips the big folders outright (a deny list prunes the walk; an allow list with `!`
 * patterns would make CDK hash all of node_modules); the Dockerfile's own
 * Dockerfile.dockerignore then narrows the context to what the image copies.
 */
export function consumerImageAsset(): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(REPO_ROOT, {
    file: 'infra/container/Dockerfile',
    ignoreMode: IgnoreMode.GLOB,
    exclude: [
      '.git',
      'node_modules',
      'dist',
      'coverage',
      'test',
      'bench',
      'examples',
      'functions',
      '.cdc-cache',
      'infra/cdk.out',
      'infra/local',
      '*.log',
    ],
  });
}

/** The whole cdc-cache deployment. */
export class CdcCacheStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly valkey: ServerlessValkey | undefined;
  readonly alarms: CdcAlarms;

  constructor(scope: Construct, id: string, props: CdcCacheStackProps) {
    super(scope, id, props);
    const { deploy, rules } = props;

    const v = deploy.vpc;
    this.vpc =
      v?.vpcId !== undefined
        ? ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
            vpcId: v.vpcId,
            availabilityZones: v.availabilityZones ?? [],
            privateSubnetIds: v.privateSubnetIds ?? [],
          })
        : asInterface<ec2.IVpc>(
            new ec2.Vpc(this, 'Vpc', {
              maxAzs: v?.create?.maxAzs ?? 2,
              natGateways: v?.create?.natGateways ?? 1,
              subnetConfiguration: [
                { name: 'public', subnetType: ec2.SubnetType.PUBLIC },
                { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
              ],
            }),
          );
    const vpcSubnets: ec2.SubnetSelection =
      v?.vpcId !== undefined
        ? { subnets: this.vpc.privateSubnets }
        : { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    const c = deploy.cache ?? { kind: 'serverless-valkey' };
    let cache: CacheConnection;
    if (c.kind === 'serverless-valkey') {
      this.valkey = new ServerlessValkey(this, 'Valkey', {
        vpc: this.vpc,
        vpcSubnets,
        ...(c.userName !== undefined ? { userName: c.userName } : {}),
        usageLimits: {
          ...(c.maxDataStorageGb !== undefined ? { maxDataStorageGb: c.maxDataStorageGb } : {}),
          ...(c.maxEcpuPerSecond !== undefined ? { maxEcpuPerSecond: c.maxEcpuPerSecond } : {}),
        },
      });
      cache = this.valkey.connection();
    } else {
      this.valkey = undefined;
      cache = {
        url: c.url,
        ...(c.username !== undefined ? { username: c.username } : {}),
        ...(c.passwordSecretArn !== undefined
          ? {
              passwordSecret: secretsmanager.Secret.fromSecretCompleteArn(
                this,
                'CachePassword',
                c.passwordSecretArn,
              ),
            }
          : {}),
      };
    }

    const topic = deploy.alarms?.email !== undefined ? new sns.Topic(this, 'AlarmTopic') : undefined;
    if (topic !== undefined && deploy.alarms?.email !== undefined)
      topic.addSubscription(new subscriptions.EmailSubscription(deploy.alarms.email));
    this.alarms = new CdcAlarms(this, 'Alarms', topic !== undefined ? { topic } : {});

    const fnProps = (handler: 'dynamodb' | 'kafka') => ({
      handler,
      cache,
      vpc: this.vpc,
      vpcSubnets,
      rules,
      ...(props.functionCode !== undefined ? { code: props.functionCode(handler) } : {}),
    });

    const d = deploy.dynamodb;
    if (d !== undefined && d.tables.length > 0) {
      // The Lambda handler serves the tables without a poller.
      const lambdaTables = d.tables.some((t) => t.poller === undefined);
      const fn = lambdaTables ? new CacheFunction(this, 'DynamoDbHandler', fnProps('dynamodb')) : undefined;
      if (fn !== undefined) {
        this.alarms.watchFunction('DynamoDbHandler', fn.function, {
          source: 'dynamodb',
          ...(deploy.alarms?.iteratorAgeSeconds !== undefined
            ? { iteratorAge: Duration.seconds(deploy.alarms.iteratorAgeSeconds) }
            : {}),
        });
        if (fn.deadLetterQueue !== undefined)
          this.alarms.watchQueue('DynamoDbPoison', fn.deadLetterQueue, 'the DynamoDB poison-record queue');
      }
      d.tables.forEach((t, i) => {
        let table: dynamodb.ITable;
        let viewType: dynamodb.StreamViewType;
        let keyAttributes: string[];
        if (t.create !== undefined) {
          keyAttributes = [
            t.create.partitionKey,
            ...(t.create.sortKey !== undefined ? [t.create.sortKey] : []),
          ];
          viewType = streamViewTypeFor(rules, t.name, keyAttributes);
          table = asInterface<dynamodb.ITable>(
            new dynamodb.TableV2(this, `Table${i}`, {
              tableName: t.name,
              partitionKey: { name: t.create.partitionKey, type: dynamodb.AttributeType.STRING },
              ...(t.create.sortKey !== undefined
                ? { sortKey: { name: t.create.sortKey, type: dynamodb.AttributeType.STRING } }
                : {}),
              dynamoStream: viewType,
              billing: dynamodb.Billing.onDemand(),
              pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
            }),
          );
        } else {
          keyAttributes = t.keyAttributes ?? [];
          viewType = t.streamViewType as dynamodb.StreamViewType;
          table = dynamodb.Table.fromTableAttributes(this, `Table${i}`, {
            tableName: t.name,
            tableStreamArn: t.streamArn!,
          });
        }
        if (t.poller !== undefined) {
          const p = t.poller;
          new StreamPollerService(this, `Poller${i}`, {
            vpc: this.vpc,
            vpcSubnets,
            image:
              props.consumerImage ??
              (p.image === undefined || p.image === 'asset'
                ? consumerImageAsset()
                : ecs.ContainerImage.fromRegistry(p.image)),
            cache,
            rules,
            table,
            tableName: t.name,
            streamViewType: viewType,
            keyAttributes,
            shards: p.shards,
            ...(p.tasks !== undefined ? { tasks: p.tasks } : {}),
            ...(p.leaseTtlMs !== undefined ? { leaseTtlMs: p.leaseTtlMs } : {}),
            ...(deploy.alarms?.iteratorAgeSeconds !== undefined
              ? { iteratorAge: Duration.seconds(deploy.alarms.iteratorAgeSeconds) }
              : {}),
            ...(topic !== undefined ? { alarmTopic: topic } : {}),
          });
          return;
        }
        const mapping = new StreamToHandler(this, `Stream${i}`, {
          table,
          handler: fn!.function,
          streamViewType: viewType,
          tableName: t.name,
          rules,
          keyAttributes,
          ...(d.batchSize !== undefined ? { batchSize: d.batchSize } : {}),
          ...(d.parallelizationFactor !== undefined
            ? { parallelizationFactor: d.parallelizationFactor }
            : {}),
          ...(d.retryAttempts !== undefined ? { retryAttempts: d.retryAttempts } : {}),
          ...(d.maxRecordAgeSeconds !== undefined
            ? { maxRecordAge: Duration.seconds(d.maxRecordAgeSeconds) }
            : {}),
        });
        this.alarms.watchQueue(
          `Stream${i}OnFailure`,
          mapping.onFailureQueue,
          `the on-failure queue of ${t.name}`,
        );
      });
    }

    const k = deploy.kafka;
    if (k !== undefined) {
      if ((k.via ?? 'lambda') === 'lambda') {
        const fn = new CacheFunction(this, 'KafkaHandler', fnProps('kafka'));
        this.alarms.watchFunction('KafkaHandler', fn.function, { source: 'kafka' });
        if (fn.deadLetterQueue !== undefined)
          this.alarms.watchQueue('KafkaPoison', fn.deadLetterQueue, 'the Kafka poison-record queue');
        const sm = k.selfManaged;
        const mapping = new KafkaToHandler(this, 'Topics', {
          handler: fn.function,
          topics: k.topics,
          source:
            k.msk !== undefined
              ? {
                  kind: 'msk',
                  clusterArn: k.msk.clusterArn,
                  ...(k.msk.scramSecretArn !== undefined
                    ? {
                        secret: secretsmanager.Secret.fromSecretCompleteArn(
                          this,
                          'MskSecret',
                          k.msk.scramSecretArn,
                        ),
                      }
                    : {}),
                }
              : {
                  kind: 'self-managed',
                  bootstrapServers: sm!.bootstrapServers,
                  vpc: this.vpc,
                  vpcSubnets,
                  securityGroup: fn.securityGroup!,
                  ...(sm!.authentication !== undefined
                    ? { authenticationMethod: AuthenticationMethod[sm!.authentication] }
                    : {}),
                  ...(sm!.secretArn !== undefined
                    ? {
                        secret: secretsmanager.Secret.fromSecretCompleteArn(
                          this,
                          'KafkaSecret',
                          sm!.secretArn,
                        ),
                      }
                    : {}),
                },
        });
        this.alarms.watchQueue('TopicsOnFailure', mapping.onFailureQueue, 'the Kafka on-failure queue');
      } else {
        const cc = k.consumer!;
        const groupId = cc.groupId ?? 'cdc-cache';
        const lag =
          k.msk !== undefined
            ? mskConsumerLag({ clusterName: k.msk.clusterName, consumerGroup: groupId, topics: k.topics })
            : new cloudwatch.Metric({
                namespace: cc.lagMetric!.namespace,
                metricName: cc.lagMetric!.metricName,
                ...(cc.lagMetric!.dimensions !== undefined
                  ? { dimensionsMap: cc.lagMetric!.dimensions }
                  : {}),
                statistic: 'Maximum',
              });
        const image =
          props.consumerImage ??
          (cc.image === undefined || cc.image === 'asset'
            ? consumerImageAsset()
            : ecs.ContainerImage.fromRegistry(cc.image));
        const consumer = new ConsumerService(this, 'Consumer', {
          vpc: this.vpc,
          vpcSubnets,
          image,
          cache,
          rules,
          lagMetric: lag,
          kafka: {
            brokers: cc.brokers,
            topics: k.topics,
            groupId,
            ...(cc.ssl !== undefined ? { ssl: cc.ssl } : {}),
            ...(cc.sasl !== undefined
              ? {
                  sasl: {
                    mechanism: cc.sasl.mechanism,
                    secret: secretsmanager.Secret.fromSecretCompleteArn(
                      this,
                      'ConsumerKafkaSecret',
                      cc.sasl.secretArn,
                    ),
                  },
                }
              : {}),
          },
          scaling: {
            ...(cc.minTasks !== undefined ? { minTasks: cc.minTasks } : {}),
            ...(cc.maxTasks !== undefined ? { maxTasks: cc.maxTasks } : {}),
            ...(cc.scaleOutLag !== undefined ? { scaleOutLag: cc.scaleOutLag } : {}),
          },
        });
        this.alarms.watchConsumerLag('Consumer', consumer.lagMetric);
      }
    }
  }
}
