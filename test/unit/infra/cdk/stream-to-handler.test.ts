import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { describe, expect, it } from 'vitest';
import { CacheFunction } from '../../../../infra/cdk/cache-function.ts';
import { asInterface } from '../../../../infra/cdk/jsii-interop.ts';
import { StreamToHandler } from '../../../../infra/cdk/stream-to-handler.ts';
import { RULES, stubCode, testStack } from '../../../support/synth-helpers.ts';

function build(options: { viewType: dynamodb.StreamViewType; parallelizationFactor?: number }) {
  const { stack, vpc } = testStack();
  const table = new dynamodb.Table(stack, 'Orders', {
    tableName: 'Orders',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    stream: options.viewType,
  });
  const fn = new CacheFunction(stack, 'Handler', {
    handler: 'dynamodb',
    code: stubCode('dynamodb'),
    cache: { url: 'valkeys://cache:6379' },
    vpc,
  });
  new StreamToHandler(stack, 'Stream', {
    table: asInterface<dynamodb.ITable>(table),
    handler: fn.function,
    streamViewType: options.viewType,
    tableName: 'Orders',
    rules: RULES,
    keyAttributes: ['pk'],
    ...(options.parallelizationFactor !== undefined
      ? { parallelizationFactor: options.parallelizationFactor }
      : {}),
  });
  return stack;
}

describe('StreamToHandler: DynamoDB stream → DynamoDB handler', () => {
  const stack = build({ viewType: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES });
  const template = Template.fromStack(stack);

  it('maps the stream with partial batch responses, bisecting, bounded retries and record age', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Orders'), 'StreamArn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 21600,
      StartingPosition: 'TRIM_HORIZON',
    });
  });

  it('sets batch size, batching window and parallelization factor 1 (one invocation per shard)', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 1,
    });
  });

  it('sends exhausted batches to an SQS on-failure destination the function may write to', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StreamOnFailure'), 'Arn'] } },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StreamOnFailure'), 'Arn'] },
          }),
        ]),
      },
    });
  });

  it('passes a chosen parallelization factor through', () => {
    const t = Template.fromStack(
      build({ viewType: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES, parallelizationFactor: 4 }),
    );
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ParallelizationFactor: 4 });
  });

  it('a stream capturing less than the rules need is a synth error with the fix', () => {
    const weak = build({ viewType: dynamodb.StreamViewType.KEYS_ONLY });
    const errors = Annotations.fromStack(weak).findError('*', Match.stringLikeRegexp('need "both" images'));
    expect(errors).toHaveLength(1);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toHaveLength(0);
  });
});
