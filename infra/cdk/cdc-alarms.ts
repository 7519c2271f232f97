/**
 * Alarms that say the cache has stopped following the database: the stream falling behind (iterator
 * age, Kafka offset lag, consumer lag), failures piling up (on-failure and dead-letter queue depth,
 * poison records counted by the handlers' EMF metrics), and function errors. All of them notify one
 * SNS topic when one is given; missing data is "not breaching" (an idle stream is healthy).
 */

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SHARED_METRICS } from '../../core/metrics/metric-names.ts';

/** Defaults of {@link CdcAlarms}. */
export const CDC_ALARMS_DEFAULTS = {
  iteratorAgeSeconds: 300,
  kafkaOffsetLag: 10_000,
  consumerLag: 50_000,
  metricsNamespace: 'cdc-cache',
} as const;

/** Properties of {@link CdcAlarms}. */
export interface CdcAlarmsProps {
  /** Where alarms (and their recovery) are sent. @default no action */
  readonly topic?: sns.ITopic;
  /** The handlers' EMF namespace (CDC_CACHE_METRICS_NAMESPACE). @default 'cdc-cache' */
  readonly metricsNamespace?: string;
}

/** A set of alarms; add what to watch with the `watch…` methods. */
export class CdcAlarms extends Construct {
  /** Every alarm made, in order. */
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly topic: sns.ITopic | undefined;
  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: CdcAlarmsProps = {}) {
    super(scope, id);
    this.topic = props.topic;
    this.namespace = props.metricsNamespace ?? CDC_ALARMS_DEFAULTS.metricsNamespace;
  }

  /**
   * A handler: errors (any in 5 minutes), poison records (any dead letter), and how far behind the
   * stream it is: IteratorAge for DynamoDB, OffsetLag for Kafka event sources.
   */
  watchFunction(
    id: string,
    fn: lambda.IFunction,
    options: { source: 'dynamodb' | 'kafka'; iteratorAge?: Duration; offsetLag?: number },
  ): void {
    this.add(`${id}Errors`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 1, {
      description: `cdc-cache ${options.source} handler: invocations failed (the batch is retried; see the logs)`,
    });
    const deadLetters = new cloudwatch.Metric({
      namespace: this.namespace,
      // The shared metric vocabulary (core/metrics/metric-names.ts), rolled up over every error code.
      metricName: SHARED_METRICS.deadLetters.name,
      dimensionsMap: { FunctionName: fn.functionName },
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    this.add(`${id}DeadLetters`, deadLetters, 1, {
      description: `cdc-cache ${options.source} handler: poison records were dead-lettered (their keys were not updated)`,
    });
    if (options.source === 'dynamodb') {
      const threshold = options.iteratorAge ?? Duration.seconds(CDC_ALARMS_DEFAULTS.iteratorAgeSeconds);
      this.add(
        `${id}IteratorAge`,
        fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold.toMilliseconds(),
        {
          description: `cdc-cache DynamoDB handler: the stream is more than ${threshold.toSeconds()} s behind`,
          evaluationPeriods: 5,
        },
      );
    } else {
      const threshold = options.offsetLag ?? CDC_ALARMS_DEFAULTS.kafkaOffsetLag;
      this.add(
        `${id}OffsetLag`,
        fn.metric('OffsetLag', { statistic: 'Maximum', period: Duration.minutes(1) }),
        threshold,
        {
          description: `cdc-cache Kafka handler: more than ${threshold} messages behind`,
          evaluationPeriods: 5,
        },
      );
    }
  }

  /** A failure queue (on-failure destination, poison records): any message visible. */
  watchQueue(id: string, queue: sqs.IQueue, what: string): void {
    this.add(
      `${id}Depth`,
      queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
      1,
      { description: `cdc-cache: ${what} has messages (records the cache did not apply)` },
    );
  }

  /** The consumer service: its group's lag above `threshold` messages for 5 minutes. */
  watchConsumerLag(
    id: string,
    lag: cloudwatch.IMetric,
    threshold: number = CDC_ALARMS_DEFAULTS.consumerLag,
  ): void {
    this.add(`${id}ConsumerLag`, lag, threshold, {
      description: `cdc-cache Kafka consumer: more than ${threshold} messages behind`,
      evaluationPeriods: 5,
    });
  }

  private add(
    id: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    options: { description: string; evaluationPeriods?: number },
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, id, {
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: options.description,
    });
    if (this.topic !== undefined) {
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      alarm.addOkAction(new actions.SnsAction(this.topic));
    }
    this.alarms.push(alarm);
    return alarm;
  }
}
