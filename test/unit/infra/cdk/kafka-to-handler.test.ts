import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import { CacheFunction } from '../../../../infra/cdk/cache-function.ts';
import { asInterface } from '../../../../infra/cdk/jsii-interop.ts';
import { KafkaToHandler } from '../../../../infra/cdk/kafka-to-handler.ts';
import { stubCode, testStack } from '../../../support/synth-helpers.ts';

const TOPICS = ['dbserver1.public.customers', 'dbserver1.public.orders'];
const MSK_ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/cdc/11111111-2222-3333-4444-555555555555-1';

function build(kind: 'msk' | 'self-managed') {
  const { stack, vpc } = testStack();
  const fn = new CacheFunction(stack, 'Handler', {
    handler: 'kafka',
    code: stubCode('kafka'),
    cache: { url: 'valkeys://cache:6379' },
    vpc,
  });
  const mapping = new KafkaToHandler(stack, 'Topics', {
    handler: fn.function,
    topics: TOPICS,
    source:
      kind === 'msk'
        ? { kind: 'msk', clusterArn: MSK_ARN }
        : {
            kind: 'self-managed',
            bootstrapServers: ['b1.kafka.internal:9092', 'b2.kafka.internal:9092'],
            vpc,
            vpcSubnets: { subnets: vpc.privateSubnets },
            securityGroup: asInterface<ec2.ISecurityGroup>(fn.securityGroup!),
          },
  });
  return { template: Template.fromStack(stack), mapping };
}

describe('KafkaToHandler: Debezium topics → Kafka handler', () => {
  const { template, mapping } = build('msk');

  it('makes one MSK mapping per topic, each with its own consumer group', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    for (const topic of TOPICS) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: MSK_ARN,
        Topics: [topic],
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: `cdc-cache-lambda.${topic}` },
        StartingPosition: 'TRIM_HORIZON',
      });
    }
    expect([...mapping.consumerGroups.values()]).toEqual(TOPICS.map((t) => `cdc-cache-lambda.${t}`));
  });

  it('runs in provisioned mode with the error handling controls and an SQS on-failure destination', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 3 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 21600,
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TopicsOnFailure'), 'Arn'] } },
      },
    });
  });

  it('reaches self-managed brokers from the VPC through the handler security group', () => {
    const sm = build('self-managed').template;
    sm.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      SelfManagedEventSource: {
        Endpoints: { KafkaBootstrapServers: ['b1.kafka.internal:9092', 'b2.kafka.internal:9092'] },
      },
      SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'cdc-cache-lambda.dbserver1.public.orders' },
      SourceAccessConfigurations: Match.arrayWith([
        Match.objectLike({ Type: 'VPC_SECURITY_GROUP' }),
        Match.objectLike({ Type: 'VPC_SUBNET' }),
      ]),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});
