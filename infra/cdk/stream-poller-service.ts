/**
 * The DynamoDB Streams poller (`cdc-cache consume dynamodb`) on ECS Fargate, beside a table: the
 * service image (infra/container/Dockerfile), the rules inline (CDC_CACHE_RULES), the target
 * password from Secrets Manager, shard leases and checkpoints in a DynamoDB lease table (made here,
 * on-demand, retained; or yours), IAM for the stream (read) and the lease table (items) only, a
 * container health check on `/livez`, a deployment circuit breaker, and alarms.
 *
 * Tasks: the workers share the stream's shards evenly (consumers/README.md, balanced shard
 * leases); a task beyond the shard count would hold nothing, so `tasks` must not exceed `shards`.
 * A task stopping (deploy, scale-in) checkpoints and releases its leases on SIGTERM, and the others
 * take them at their next scan; `stopTimeout` leaves room for the page in flight.
 *
 * Alarms: the poller logs `stream progress` (JSON, every minute per task) with the largest iterator
 * age of its shards; a metric filter turns it into `cdc-cache/DynamoDbIteratorAgeSeconds` (dimension
 * `Table`), alarmed above `iteratorAge` — and on missing data, which means no task is logging. A
 * second alarm watches the running task count (Container Insights) below `tasks`.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { type ContainerServiceProps, containerPropsOf, createFargateConsumer } from './fargate-consumer.ts';
import { asInterface } from './jsii-interop.ts';
import { checkStreamView } from './stream-view-type.ts';

/** Defaults of {@link StreamPollerService}. */
export const STREAM_POLLER_DEFAULTS = {
  cpu: 512,
  memoryLimitMiB: 1024,
  httpPort: 9464,
  tasks: 2,
  leaseTtlMs: 10_000,
  iteratorAgeSeconds: 300,
  stopTimeoutSeconds: 60,
  metricsNamespace: 'cdc-cache',
  iteratorAgeMetric: 'DynamoDbIteratorAgeSeconds',
} as const;

/** The container's command (after the image's ENTRYPOINT `node bin/cdc-cache.ts`; node is PID 1). */
const COMMAND = ['consume', 'dynamodb', '--no-progress'];

/** Properties of {@link StreamPollerService}. */
export interface StreamPollerServiceProps extends ContainerServiceProps {
  /** The source table, with its stream (`Table.fromTableAttributes({ tableName, tableStreamArn })` for one made elsewhere). */
  readonly table: dynamodb.ITable;
  /** The table's name as the rules name it. @default `table.tableName` (a token for a table made in the stack: pass it) */
  readonly tableName?: string;
  /** What the stream captures: checked against the rules (a synth error when it is too little). @default not checked */
  readonly streamViewType?: dynamodb.StreamViewType;
  /** The table's key attribute names, for that check. @default none */
  readonly keyAttributes?: readonly string[];
  /** Open shards the stream has (DynamoDB: roughly one per partition); `tasks` may not exceed it. */
  readonly shards: number;
  /** Tasks to run (1 ≤ tasks ≤ shards). @default min(2, shards) */
  readonly tasks?: number;
  /** The lease table (key streamArn HASH + leaseKey RANGE). @default one made here, on-demand, retained */
  readonly leaseTable?: dynamodb.ITable;
  /** @default 10000 */
  readonly leaseTtlMs?: number;
  /** Alarm when a shard's iterator age passes this. @default 5 minutes */
  readonly iteratorAge?: Duration;
  /** Where alarms (and their recovery) are sent. @default no action */
  readonly alarmTopic?: sns.ITopic;
  /** @default 512 (.5 vCPU) */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryLimitMiB?: number;
  /** Extra environment variables (CDC_CACHE_LOG_LEVEL, CDC_CACHE_DYNAMODB_START, …). */
  readonly environment?: Record<string, string>;
}

/** The DynamoDB Streams poller service with its lease table, task definition and alarms. */
export class StreamPollerService extends Construct implements ec2.IConnectable {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly connections: ec2.Connections;
  readonly leaseTable: dynamodb.ITable;
  /** The largest iterator age over the stream's shards, from the tasks' `stream progress` logs. */
  readonly iteratorAgeMetric: cloudwatch.Metric;
  /** Iterator age, then running tasks. */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: StreamPollerServiceProps) {
    super(scope, id);
    const streamArn = props.table.tableStreamArn;
    if (streamArn === undefined)
      throw new Error(
        `${this.node.path}: table: it has no stream; enable one (stream: NEW_AND_OLD_IMAGES, …) or import it with tableStreamArn`,
      );
    if (!Number.isInteger(props.shards) || props.shards < 1)
      throw new Error(`${this.node.path}: shards: give the stream's open shard count (an integer >= 1)`);
    const tasks = props.tasks ?? Math.min(STREAM_POLLER_DEFAULTS.tasks, props.shards);
    if (!Number.isInteger(tasks) || tasks < 1 || tasks > props.shards)
      throw new Error(
        `${this.node.path}: tasks: need 1 <= tasks <= shards (${props.shards}); a task beyond the shard count holds no shard`,
      );
    const leaseTtlMs = props.leaseTtlMs ?? STREAM_POLLER_DEFAULTS.leaseTtlMs;
    const tableName = props.tableName ?? props.table.tableName;
    if (props.streamViewType !== undefined) {
      checkStreamView(this, props.rules, tableName, props.streamViewType, props.keyAttributes ?? []);
    }

    this.leaseTable =
      props.leaseTable ??
      asInterface<dynamodb.ITable>(
        new dynamodb.Table(this, 'Leases', {
          partitionKey: { name: 'streamArn', type: dynamodb.AttributeType.STRING },
          sortKey: { name: 'leaseKey', type: dynamodb.AttributeType.STRING },
          billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
          // Finished shards' and gone workers' items (consumers/dynamodb/dynamodb-lease-store.ts).
          timeToLiveAttribute: 'expireAt',
          pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
          // The checkpoints: losing them restarts every shard at --start.
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      );

    const made = createFargateConsumer(this, {
      ...containerPropsOf(props),
      name: 'poller',
      description: 'cdc-cache DynamoDB Streams poller',
      cpu: props.cpu ?? STREAM_POLLER_DEFAULTS.cpu,
      memoryLimitMiB: props.memoryLimitMiB ?? STREAM_POLLER_DEFAULTS.memoryLimitMiB,
      command: [...COMMAND, '--lease-ttl-ms', String(leaseTtlMs)],
      environment: {
        CDC_CACHE_DYNAMODB_STREAM_ARN: streamArn,
        CDC_CACHE_DYNAMODB_TABLE: tableName,
        CDC_CACHE_DYNAMODB_LEASE_STORE: 'dynamodb',
        CDC_CACHE_DYNAMODB_LEASE_TABLE: this.leaseTable.tableName,
      },
      extraEnvironment: props.environment,
      httpPort: STREAM_POLLER_DEFAULTS.httpPort,
      stopTimeoutSeconds: STREAM_POLLER_DEFAULTS.stopTimeoutSeconds,
      desiredCount: tasks,
      // Read the stream; read and write lease items (the table exists: no CreateTable).
      grant: (task) => {
        props.table.grantStreamRead(task.taskRole);
        this.leaseTable.grantReadWriteData(task.taskRole);
      },
    });
    const { cluster, logGroup } = made;
    this.taskDefinition = made.taskDefinition;
    this.container = made.container;
    this.service = made.service;
    this.connections = this.service.connections;

    new logs.MetricFilter(this, 'IteratorAgeFilter', {
      logGroup,
      filterPattern: logs.FilterPattern.stringValue('$.message', '=', 'stream progress'),
      metricNamespace: STREAM_POLLER_DEFAULTS.metricsNamespace,
      metricName: STREAM_POLLER_DEFAULTS.iteratorAgeMetric,
      metricValue: '$.iteratorAgeSeconds',
      dimensions: { Table: '$.table' },
      unit: cloudwatch.Unit.SECONDS,
    });
    this.iteratorAgeMetric = new cloudwatch.Metric({
      namespace: STREAM_POLLER_DEFAULTS.metricsNamespace,
      metricName: STREAM_POLLER_DEFAULTS.iteratorAgeMetric,
      dimensionsMap: { Table: tableName },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(5),
    });
    const threshold = (
      props.iteratorAge ?? Duration.seconds(STREAM_POLLER_DEFAULTS.iteratorAgeSeconds)
    ).toSeconds();
    this.addAlarm('IteratorAge', this.iteratorAgeMetric, {
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // No `stream progress` line for a whole period: no task is reading the stream.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `cdc-cache poller: a shard of ${tableName}'s stream is more than ${threshold} s behind, or no task reports progress`,
    });
    this.addAlarm(
      'RunningTasks',
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: this.service.serviceName },
        statistic: cloudwatch.Stats.MINIMUM,
        period: Duration.minutes(1),
      }),
      {
        threshold: tasks,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `cdc-cache poller: fewer than ${tasks} task(s) running; the others read more shards each`,
      },
      5,
    );
    for (const alarm of this.alarms)
      if (props.alarmTopic !== undefined) {
        alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
        alarm.addOkAction(new actions.SnsAction(props.alarmTopic));
      }
  }

  private addAlarm(
    id: string,
    metric: cloudwatch.IMetric,
    o: Pick<
      cloudwatch.AlarmProps,
      'threshold' | 'comparisonOperator' | 'treatMissingData' | 'alarmDescription'
    >,
    periods = 1,
  ): void {
    this.alarms.push(
      new cloudwatch.Alarm(this, `${id}Alarm`, {
        metric,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        ...o,
      }),
    );
  }
}
