/**
 * A DynamoDB table's stream → the DynamoDB handler, through an event source mapping set up for the
 * handler's checkpoint semantics (functions/README.md):
 *
 * - ReportBatchItemFailures: the handler reports the first unfinished record and everything after it
 *   in its shard; Lambda checkpoints before it and retries from it, so order per key holds;
 * - BisectBatchOnFunctionError: a function error (not a partial response) splits the batch to isolate
 *   what fails;
 * - bounded MaximumRetryAttempts and MaximumRecordAgeInSeconds, then the SQS on-failure destination
 *   gets the batch metadata (shard, sequence numbers) instead of the shard stalling for 24 hours;
 * - ParallelizationFactor 1 by default: one invocation per shard, so order per key is per shard.
 *
 * When the rules are given, the table's stream is checked against what they need (see
 * stream-view-type.ts): a stream that captures less is a synth error with the fix.
 */
import { Annotations, Duration, Token } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { CdcCacheConfig } from '../../core/rules/config.ts';
import { checkStreamView } from './stream-view-type.ts';

/** Defaults of {@link StreamToHandler}. */
export const STREAM_TO_HANDLER_DEFAULTS = {
  batchSize: 500,
  maxBatchingWindowSeconds: 1,
  parallelizationFactor: 1,
  retryAttempts: 10,
  maxRecordAgeSeconds: 6 * 3600,
} as const;

/** Properties of {@link StreamToHandler}. */
export interface StreamToHandlerProps {
  /** The table; its stream must be enabled (`tableStreamArn`). */
  readonly table: dynamodb.ITable;
  /** The DynamoDB handler. */
  readonly handler: lambda.IFunction;
  /** What the table's stream captures, to check against `rules`. @default not checked */
  readonly streamViewType?: dynamodb.StreamViewType;
  /** The rules the handler runs, to check the stream view type. */
  readonly rules?: CdcCacheConfig;
  /** The table's name as the rules know it (for the check). @default the table's, when not a token */
  readonly tableName?: string;
  /** Attribute names of the table's primary key (for the check). @default [] */
  readonly keyAttributes?: readonly string[];
  /** Records per invocation (1–10000). @default 500 */
  readonly batchSize?: number;
  /** How long to gather a batch. @default 1 second */
  readonly maxBatchingWindow?: Duration;
  /** Concurrent invocations per shard (1–10); above 1, order holds per key only, not per shard. @default 1 */
  readonly parallelizationFactor?: number;
  /** Retries of a failing batch before it goes to the on-failure destination (0–10000). @default 10 */
  readonly retryAttempts?: number;
  /** Records older than this go to the on-failure destination unprocessed (60 s – 7 days). @default 6 hours */
  readonly maxRecordAge?: Duration;
  /** @default TRIM_HORIZON */
  readonly startingPosition?: lambda.StartingPosition;
  /** On-failure destination. @default a queue made here */
  readonly onFailureQueue?: sqs.IQueue;
}

/** The event source mapping from a table's stream to the DynamoDB handler, with its failure queue. */
export class StreamToHandler extends Construct {
  /** Batches that exhausted retries or aged out (metadata only: shard and sequence numbers). */
  readonly onFailureQueue: sqs.IQueue;
  /** The event source mapping's id. */
  readonly eventSourceMappingId: string;

  constructor(scope: Construct, id: string, props: StreamToHandlerProps) {
    super(scope, id);
    if (props.table.tableStreamArn === undefined)
      throw new Error(
        `${this.node.path}: table ${props.table.node.path} has no stream: enable one (stream: StreamViewType.…)`,
      );
    const tableName =
      props.tableName ?? (Token.isUnresolved(props.table.tableName) ? undefined : props.table.tableName);
    if (props.rules !== undefined && props.streamViewType !== undefined && tableName === undefined)
      Annotations.of(this).addWarningV2(
        'cdc-cache:stream-view-unchecked',
        'the stream view type was not checked against the rules: the table name is a token; pass tableName',
      );
    if (props.rules !== undefined && props.streamViewType !== undefined && tableName !== undefined) {
      checkStreamView(this, props.rules, tableName, props.streamViewType, props.keyAttributes ?? []);
    }
    this.onFailureQueue =
      props.onFailureQueue ??
      new sqs.Queue(this, 'OnFailure', {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
    const source = new DynamoEventSource(props.table, {
      startingPosition: props.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? STREAM_TO_HANDLER_DEFAULTS.batchSize,
      maxBatchingWindow:
        props.maxBatchingWindow ?? Duration.seconds(STREAM_TO_HANDLER_DEFAULTS.maxBatchingWindowSeconds),
      parallelizationFactor: props.parallelizationFactor ?? STREAM_TO_HANDLER_DEFAULTS.parallelizationFactor,
      retryAttempts: props.retryAttempts ?? STREAM_TO_HANDLER_DEFAULTS.retryAttempts,
      maxRecordAge: props.maxRecordAge ?? Duration.seconds(STREAM_TO_HANDLER_DEFAULTS.maxRecordAgeSeconds),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(this.onFailureQueue),
    });
    props.handler.addEventSource(source);
    this.eventSourceMappingId = source.eventSourceMappingId;
  }
}
