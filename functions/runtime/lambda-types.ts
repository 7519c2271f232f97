/**
 * The few Lambda shapes the handlers touch, typed structurally (no `@types/aws-lambda`): the
 * invocation context, the event-source events, and the partial batch responses.
 */

/** The part of the Lambda context object the handlers use. */
export interface LambdaContext {
  readonly awsRequestId: string;
  readonly functionName: string;
  /** The invoked ARN (alias or version included), when the runtime gives it. */
  readonly invokedFunctionArn?: string;
  /** Memory size, as the runtime gives it (text). */
  readonly memoryLimitInMB?: string;
  readonly functionVersion?: string;
  /** Milliseconds left before the function times out. */
  getRemainingTimeInMillis(): number;
}

/** A DynamoDB Streams event (or a Kinesis event carrying DynamoDB change records). */
export interface DynamoDbStreamEvent {
  Records: unknown[];
}

/** An Amazon MSK or self-managed Kafka event: records keyed by `topic-partition`. */
export interface KafkaEvent {
  eventSource?: string;
  eventSourceArn?: string;
  bootstrapServers?: string;
  records: Record<string, unknown[]>;
}

/**
 * One record of a Kafka event as AWS reports it back. Per the AWS Lambda guide "Configuring error
 * handling controls for Kafka event sources" (https://docs.aws.amazon.com/lambda/latest/dg/kafka-retry-configurations.html,
 * partial batch response), a Kafka `itemIdentifier` is not a string but an object naming the
 * `records` map key (`topic-partition`) and the offset; Lambda resumes that partition from it.
 * Powertools for AWS Lambda (Python) builds the same shape (`KafkaItemIdentifier`, PR
 * aws-powertools/powertools-lambda-python#7941), as does aws/aws-lambda-rust-runtime#1164.
 */
export interface KafkaItemIdentifier {
  /** The `records` key: `<topic>-<partition>`. */
  partition: string;
  offset: number;
}

/** The ReportBatchItemFailures response. */
export interface BatchResponse<Id> {
  batchItemFailures: { itemIdentifier: Id }[];
}

/** DynamoDB Streams / Kinesis: the record's sequence number. */
export type StreamBatchResponse = BatchResponse<string>;

/** MSK / self-managed Kafka: topic-partition and offset. */
export type KafkaBatchResponse = BatchResponse<KafkaItemIdentifier>;
