/**
 * What the two container constructs share (ConsumerService for Kafka, StreamPollerService for
 * DynamoDB Streams): the cluster, the x86-64 Fargate task, the cache connection's variables and
 * secret, the container with its `/livez` health check and log group, the security group and the
 * private-subnet service with rollback. Construct ids are created on the caller's scope, so the
 * CloudFormation logical ids are the ones the constructs always had.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { CdcCacheConfig } from '../../core/rules/config.ts';
import { type CacheConnection, PASSWORD_FIELD } from './cache-connection.ts';
import { asInterface } from './jsii-interop.ts';

/** The properties both container constructs take (ConsumerService, StreamPollerService). */
export interface ContainerServiceProps {
  readonly vpc: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default a cluster made here (Container Insights on) */
  readonly cluster?: ecs.ICluster;
  /** The service image: `ContainerImage.fromAsset(repoRoot, { file: 'infra/container/Dockerfile' })` or `fromRegistry`. */
  readonly image: ecs.ContainerImage;
  /** Where the cache is. */
  readonly cache: CacheConnection;
  /** The rules (inline in the task definition, CDC_CACHE_RULES). */
  readonly rules: CdcCacheConfig;
}

/** The {@link ContainerServiceProps} of a construct's props (which hold more), for {@link createFargateConsumer}. */
export function containerPropsOf(p: ContainerServiceProps): ContainerServiceProps {
  return {
    vpc: p.vpc,
    ...(p.vpcSubnets === undefined ? {} : { vpcSubnets: p.vpcSubnets }),
    ...(p.cluster === undefined ? {} : { cluster: p.cluster }),
    image: p.image,
    cache: p.cache,
    rules: p.rules,
  };
}

/** Options of {@link createFargateConsumer}: the construct's container properties and the source's. */
export interface FargateConsumerOptions extends ContainerServiceProps {
  /** The container name and log stream prefix (`consumer`, `poller`). */
  readonly name: string;
  /** The security group's description (also the cache admission's). */
  readonly description: string;
  readonly cpu: number;
  readonly memoryLimitMiB: number;
  /** `cdc-cache` arguments (the image's entry point is the CLI). */
  readonly command: string[];
  /** The source's variables (brokers, stream ARN, …), beside the cache's and the rules. */
  readonly environment: Record<string, string>;
  /** The source's secrets (SASL), beside the cache password. */
  readonly secrets?: Record<string, ecs.Secret>;
  /** The user's variables, applied last. */
  readonly extraEnvironment?: Record<string, string> | undefined;
  readonly httpPort: number;
  readonly stopTimeoutSeconds: number;
  readonly desiredCount: number;
  /** Called with the task definition before the container is added (grants). */
  readonly grant?: (taskDefinition: ecs.FargateTaskDefinition) => void;
}

/** What {@link createFargateConsumer} made. */
export interface FargateConsumer {
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
}

/** Creates the cluster (unless given), task, container, security group and service on `scope`. */
export function createFargateConsumer(scope: Construct, o: FargateConsumerOptions): FargateConsumer {
  const cluster =
    o.cluster ??
    asInterface<ecs.ICluster>(
      new ecs.Cluster(scope, 'Cluster', { vpc: o.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED }),
    );
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'Task', {
    cpu: o.cpu,
    memoryLimitMiB: o.memoryLimitMiB,
    runtimePlatform: {
      cpuArchitecture: ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  o.grant?.(taskDefinition);

  const environment: Record<string, string> = {
    CDC_CACHE_TARGET: o.cache.url,
    ...o.environment,
    CDC_CACHE_HTTP_PORT: String(o.httpPort),
    CDC_CACHE_LOG_LEVEL: 'info',
    // The rules travel in the task definition, inline (as for the Lambda handlers).
    CDC_CACHE_RULES: JSON.stringify(o.rules),
  };
  if (o.cache.username !== undefined) environment.CDC_CACHE_TARGET_USERNAME = o.cache.username;
  const secrets: Record<string, ecs.Secret> = {};
  if (o.cache.passwordSecret !== undefined)
    secrets.CDC_CACHE_TARGET_PASSWORD = ecs.Secret.fromSecretsManager(o.cache.passwordSecret, PASSWORD_FIELD);
  Object.assign(secrets, o.secrets);

  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: logs.RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const container = taskDefinition.addContainer(o.name, {
    image: o.image,
    command: o.command,
    environment: { ...environment, ...o.extraEnvironment },
    secrets,
    portMappings: [{ containerPort: o.httpPort, name: 'metrics' }],
    healthCheck: {
      command: [
        'CMD',
        'node',
        '-e',
        `fetch('http://127.0.0.1:${o.httpPort}/livez').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
      ],
      interval: Duration.seconds(15),
      timeout: Duration.seconds(5),
      retries: 3,
      startPeriod: Duration.seconds(30),
    },
    stopTimeout: Duration.seconds(o.stopTimeoutSeconds),
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: o.name, logGroup }),
    readonlyRootFilesystem: false,
  });

  const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
    vpc: o.vpc,
    description: o.description,
    allowAllOutbound: true,
  });
  const service = new ecs.FargateService(scope, 'Service', {
    cluster,
    taskDefinition,
    desiredCount: o.desiredCount,
    vpcSubnets: o.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [securityGroup],
    assignPublicIp: false,
    circuitBreaker: { rollback: true },
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    enableExecuteCommand: false,
  });
  o.cache.admit?.(securityGroup, o.description);
  return { cluster, taskDefinition, container, service, securityGroup, logGroup };
}
