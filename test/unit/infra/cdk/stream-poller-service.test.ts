/**
 * StreamPollerService synthesises the DynamoDB Streams poller on Fargate: `consume dynamodb` with the
 * lease table, IAM for the stream (read) and the lease table (items) only, the `/livez` health check,
 * tasks ≤ shards, the iterator-age metric filter and alarms.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { ServerlessValkey } from '../../../../infra/cdk/serverless-valkey.ts';
import { StreamPollerService } from '../../../../infra/cdk/stream-poller-service.ts';
import { RULES, testStack } from '../../../support/synth-helpers.ts';

const STREAM = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000';

function synth(overrides: { shards?: number; tasks?: number; stream?: boolean } = {}) {
  const { stack, vpc } = testStack();
  const valkey = new ServerlessValkey(stack, 'Valkey', { vpc });
  const table = dynamodb.Table.fromTableAttributes(stack, 'Orders', {
    tableName: 'Orders',
    ...(overrides.stream === false ? {} : { tableStreamArn: STREAM }),
  });
  const poller = new StreamPollerService(stack, 'Poller', {
    vpc,
    image: ecs.ContainerImage.fromRegistry('ghcr.io/example/cdc-cache:1.0.0'),
    cache: valkey.connection(),
    rules: RULES,
    table,
    shards: overrides.shards ?? 8,
    ...(overrides.tasks === undefined ? {} : { tasks: overrides.tasks }),
    iteratorAge: Duration.minutes(2),
    alarmTopic: new sns.Topic(stack, 'Alarms'),
  });
  return { stack, poller };
}

describe('StreamPollerService: the DynamoDB Streams poller on Fargate', () => {
  const { stack, poller } = synth({ tasks: 3 });
  const template = Template.fromStack(stack);

  it('runs `consume dynamodb` on the stream with leases in the lease table', () => {
    const defs = template.findResources('AWS::ECS::TaskDefinition');
    const container = Object.values(defs)[0]!.Properties.ContainerDefinitions[0];
    expect(container.Command).toEqual(['consume', 'dynamodb', '--no-progress', '--lease-ttl-ms', '10000']);
    const env = Object.fromEntries(
      (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env).toMatchObject({
      CDC_CACHE_DYNAMODB_STREAM_ARN: STREAM,
      CDC_CACHE_DYNAMODB_TABLE: 'Orders',
      CDC_CACHE_DYNAMODB_LEASE_STORE: 'dynamodb',
      CDC_CACHE_DYNAMODB_LEASE_TABLE: { Ref: expect.stringMatching(/^PollerLeases/) },
      CDC_CACHE_RULES: JSON.stringify(RULES),
      CDC_CACHE_TARGET_USERNAME: 'cdc-cache',
    });
    expect(JSON.stringify(env)).not.toMatch(/CDC_CACHE_TARGET_PASSWORD/);
    expect(container.HealthCheck.Command.join(' ')).toMatch(/\/livez/);
    expect(container.Secrets).toEqual([expect.objectContaining({ Name: 'CDC_CACHE_TARGET_PASSWORD' })]);
  });

  it('makes the lease table in the KCL shape: streamArn + leaseKey, on-demand, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: [
          { AttributeName: 'streamArn', KeyType: 'HASH' },
          { AttributeName: 'leaseKey', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expireAt', Enabled: true },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('grants reading the stream and the lease items, nothing wider', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:UpdateItem',
        'dynamodb:Query',
        'dynamodb:BatchGetItem',
        'dynamodb:DeleteItem',
      ]),
    );
    expect(actions).not.toContain('dynamodb:*');
    expect(actions).not.toContain('dynamodb:CreateTable');
    const streamRead = statements.find((s) => JSON.stringify(s.Action).includes('GetRecords'));
    expect(streamRead?.Resource).toBe(STREAM);
  });

  it('runs the tasks asked for, with a rollback circuit breaker', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 3,
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    });
  });

  it('turns `stream progress` logs into an iterator-age metric and alarms on it and on running tasks', () => {
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.message = "stream progress" }',
      MetricTransformations: [
        Match.objectLike({
          MetricNamespace: 'cdc-cache',
          MetricName: 'DynamoDbIteratorAgeSeconds',
          MetricValue: '$.iteratorAgeSeconds',
          Dimensions: [{ Key: 'Table', Value: '$.table' }],
        }),
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DynamoDbIteratorAgeSeconds',
      Dimensions: [{ Name: 'Table', Value: 'Orders' }],
      Threshold: 120,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RunningTaskCount',
      Threshold: 3,
      ComparisonOperator: 'LessThanThreshold',
    });
    expect(poller.alarms).toHaveLength(2);
  });

  it('refuses more tasks than shards, and a table without a stream, naming the fix', () => {
    expect(() => synth({ shards: 2, tasks: 3 })).toThrow(/tasks: need 1 <= tasks <= shards \(2\)/);
    expect(() => synth({ stream: false })).toThrow(/table: it has no stream/);
    // Default: two tasks, but never more than the shards.
    const one = Template.fromStack(synth({ shards: 1 }).stack);
    one.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1 });
  });
});
